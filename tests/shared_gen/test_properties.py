"""Seed properties 34, 35 and 36 (seed 002) as Hypothesis properties (>= 100 examples each).

* Property 34: the same seed gives an identical system, terrain, biomes and resources.
* Property 35: resource node types follow the biome's resource weights (statistical test,
  tolerance stated on each test).
* Property 36: an unmodified chunk regenerated gives identical bytes.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sg_support import PROPERTY, clear_caches, lattice_equal, planets, surface_chunks

from shared_gen import (
    BIOMES,
    chunk_hash,
    decode_chunk,
    encode_chunk,
    generate_biosphere,
    generate_chunk,
    generate_solar_system,
    get_chunk_seed,
    hash_ints,
)
from shared_gen.biomes import BIOME_NONE
from shared_gen.hashing import pick_weighted
from shared_gen.planet import (
    SALT_RESOURCES,
    LatticeFields,
    compute_lattice,
    field_params,
    place_resources,
    surface_chunk,
)

ROOT = Path(__file__).resolve().parents[2]
Case = tuple[int, int, tuple[int, int, int]]

#: Property 35 tolerance: every resource type's count is within Z_TOL binomial standard
#: deviations of its expectation (two-sided p ~ 5.7e-7 per type and example).
Z_TOL = 5.0


def _snapshot(case: Case) -> dict[str, object]:
    seed, idx, coord = case
    lat = compute_lattice(field_params(seed, idx), coord)
    ch = generate_chunk(seed, idx, coord)
    return {
        "system": json.dumps(generate_solar_system(seed).to_dict(), sort_keys=True),
        "lattice": lat,
        "density": ch.density,
        "material": ch.material,
        "resources": ch.resources,
    }


# ---- Property 34 ------------------------------------------------------------------------


@PROPERTY
@given(surface_chunks(), surface_chunks())
def test_property_34_same_seed_same_world(case: Case, other: Case) -> None:
    """Property 34: same seed -> identical system, terrain (density / terrain height),
    biomes and resources, whatever was generated in between and with cold caches."""
    a = _snapshot(case)
    clear_caches()
    _snapshot(other)  # unrelated work in between
    b = _snapshot(case)
    assert a["system"] == b["system"]
    assert lattice_equal(a["lattice"], b["lattice"])  # terrain, depth, biome, ore, rock
    assert np.array_equal(a["density"], b["density"])  # type: ignore[arg-type]
    assert np.array_equal(a["material"], b["material"])  # type: ignore[arg-type]
    assert a["resources"] == b["resources"]


@PROPERTY
@given(planets())
def test_property_34_same_seed_same_biosphere(planet: tuple[int, int]) -> None:
    """Property 34 for the planet-level data: system and biosphere."""
    seed, idx = planet
    sys_a = generate_solar_system(seed).to_dict()
    bio_a = generate_biosphere(seed, idx).to_dict()
    clear_caches()
    assert generate_solar_system(seed).to_dict() == sys_a
    assert generate_biosphere(seed, idx).to_dict() == bio_a


_CHILD = """
import json, sys
from shared_gen import chunk_hash, generate_chunk, generate_solar_system, generate_biosphere
cases = json.loads(sys.argv[1])
out = [[chunk_hash(generate_chunk(s, p, tuple(c))),
        json.dumps(generate_solar_system(s).to_dict(), sort_keys=True),
        json.dumps(generate_biosphere(s, p).to_dict(), sort_keys=True)] for s, p, c in cases]
print(json.dumps(out))
"""


def test_property_34_across_processes_and_hash_seeds() -> None:
    """Property 34 across processes with different PYTHONHASHSEED (set/dict order)."""
    cases = [(42, 0, surface_chunk(42, 0, (1.0, 0.3, 0.2))),
             (2**63 - 1, 1, surface_chunk(2**63 - 1, 1, (-0.3, 0.2, -1.0))),
             (7, 2, surface_chunk(7, 2, (0.0, -1.0, 0.1)))]
    here = [[chunk_hash(generate_chunk(*c)),
             json.dumps(generate_solar_system(c[0]).to_dict(), sort_keys=True),
             json.dumps(generate_biosphere(c[0], c[1]).to_dict(), sort_keys=True)]
            for c in cases]
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(cases)], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120, check=True)
        assert json.loads(run.stdout) == here


# ---- Property 35 ------------------------------------------------------------------------


def _uniform_lattice(biome: int) -> tuple[LatticeFields, np.ndarray, np.ndarray]:
    """A lattice where every voxel is solid, at the surface and of ``biome``: every
    resource candidate is kept, so the node types are exactly the weighted draws."""
    one = np.ones((9, 9, 9))
    lat = LatticeFields(one, one * 0.0, np.full((9, 9, 9), biome, np.uint8),
                        np.zeros((9, 9, 9), np.uint8), np.full((9, 9, 9), 16, np.uint8), one)
    return lat, np.ones((32, 32, 32), np.int8), np.zeros((32, 32, 32))


def _z_scores(types: list[int], probs: list[dict[int, float]]) -> dict[int, float]:
    """Per type: (observed - sum p) / sqrt(sum p (1 - p)) over independent draws whose
    type distributions are ``probs`` (Poisson-binomial)."""
    out = {}
    for t in {t for p in probs for t in p}:
        mean = sum(p.get(t, 0.0) for p in probs)
        var = sum(p.get(t, 0.0) * (1.0 - p.get(t, 0.0)) for p in probs)
        obs = sum(1 for x in types if x == t)
        out[t] = (obs - mean) / math.sqrt(var) if var > 0 else float(obs - mean)
    return out


def _probs(biome: int) -> dict[int, float]:
    w = BIOMES[biome].resource_weights
    total = sum(v for _, v in w)
    return {t: v / total for t, v in w}


@PROPERTY
@given(surface_chunks(), st.data())
def test_property_35_resource_types_follow_biome_weights(case: Case, data: st.DataObject) -> None:
    """Property 35, statistical: with every candidate kept (uniform surface lattice of one
    of the planet's biomes), the node types of 48 neighbouring chunks (>= 384 nodes)
    match the biome's weights: each type within Z_TOL = 5 standard deviations."""
    seed, idx, coord = case
    p = field_params(seed, idx)
    biome = data.draw(st.sampled_from(p.biome_ids))
    lat, q, depth = _uniform_lattice(biome)
    types: list[int] = []
    for dx in range(-2, 2):
        for dy in range(-2, 1):
            for dz in range(-2, 2):
                ch = (coord[0] + dx, coord[1] + dy, coord[2] + dz)
                nodes = place_resources(p, ch, lat, q, depth)
                assert len(nodes) == math.floor(p.richness * 16)
                types.extend(n.resource_type for n in nodes)
    probs = _probs(biome)
    assert set(types) <= set(probs)
    z = _z_scores(types, [probs] * len(types))
    assert max(abs(v) for v in z.values()) <= Z_TOL, (biome, z)


@PROPERTY
@given(surface_chunks())
def test_property_35_real_nodes_use_their_biome_draw(case: Case) -> None:
    """Property 35, exact: every node of a real chunk has the type that
    ``pick_weighted(u, weights of the biome at its nearest lattice point)`` gives, with
    ``u`` the candidate's fourth draw of the chunk's resource stream."""
    seed, idx, coord = case
    p = field_params(seed, idx)
    lat = compute_lattice(p, coord)
    cseed = get_chunk_seed(p.planet_seed, coord)
    for n in generate_chunk(seed, idx, coord).resources:
        i, j, k = n.voxel
        biome = int(lat.biome[(i + 2) >> 2, (j + 2) >> 2, (k + 2) >> 2])
        assert biome != BIOME_NONE
        draws = [hash_ints(cseed, SALT_RESOURCES, 5 * n.index + d) for d in range(5)]
        assert n.voxel == tuple((u * 32) >> 32 for u in draws[:3])
        weights = BIOMES[biome].resource_weights
        assert n.resource_type == weights[pick_weighted(draws[3], [w for _, w in weights])][0]
        assert n.quantity == 20 + ((draws[4] * 81) >> 32)


def test_property_35_real_chunks_aggregate() -> None:
    """Property 35 on real generated output: nodes of 240 surface chunks (4 seeds, every
    planet); per type, observed count vs the sum of its per-node probabilities (each node's
    own biome), within Z_TOL = 5 standard deviations; at least 300 nodes."""
    types: list[int] = []
    probs: list[dict[int, float]] = []
    golden = 2.399963229728653  # golden angle: directions spread over the sphere
    for seed in (1, 42, 2024, 2**63 - 1):
        n_planets = len(generate_solar_system(seed).planets)
        per = 60 // n_planets + 1
        for idx in range(n_planets):
            p = field_params(seed, idx)
            for m in range(per):
                y = 1.0 - 2.0 * (m + 0.5) / per
                r = math.sqrt(1.0 - y * y)
                d = (r * math.cos(golden * m), y, r * math.sin(golden * m))
                coord = surface_chunk(seed, idx, d)
                lat = compute_lattice(p, coord)
                for n in generate_chunk(seed, idx, coord).resources:
                    i, j, k = n.voxel
                    b = int(lat.biome[(i + 2) >> 2, (j + 2) >> 2, (k + 2) >> 2])
                    types.append(n.resource_type)
                    probs.append(_probs(b))
    assert len(types) >= 300
    z = _z_scores(types, probs)
    assert max(abs(v) for v in z.values()) <= Z_TOL, z


# ---- Property 36 ------------------------------------------------------------------------


@PROPERTY
@given(surface_chunks(), st.lists(surface_chunks(), max_size=2))
def test_property_36_regenerated_chunk_identical_bytes(case: Case, others: list[Case]) -> None:
    """Property 36: an unmodified chunk regenerated (cold caches, other chunks generated in
    between) encodes to identical bytes; decode -> encode is the identity."""
    data = encode_chunk(generate_chunk(*case))
    clear_caches()
    for o in others:
        generate_chunk(*o)
    again = generate_chunk(*case)
    assert encode_chunk(again) == data
    assert encode_chunk(decode_chunk(data)) == data
    assert chunk_hash(again) == chunk_hash(decode_chunk(data))


@pytest.mark.parametrize("workers", [2])
def test_property_36_threads(workers: int) -> None:
    """Property 36 under concurrency: chunks generated from two threads match."""
    from concurrent.futures import ThreadPoolExecutor

    cases = [(42, 0, surface_chunk(42, 0, (1.0, y * 0.2, 0.1))) for y in range(-4, 5)]
    want = [encode_chunk(generate_chunk(*c)) for c in cases]
    clear_caches()
    with ThreadPoolExecutor(workers) as pool:
        got = list(pool.map(lambda c: encode_chunk(generate_chunk(*c)), cases))
    assert got == want
