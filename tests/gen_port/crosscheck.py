"""Cross-check support: deterministic (world seed, planet, chunk) triples and diagnosis.

Used by ``test_gdscript_port.py`` and ``tools/bench_gdscript_gen.py``, and runnable on
its own for any world-seed range (from the repository root)::

    PYTHONPATH=tests .venv/bin/python -m gen_port.crosscheck \
        --world-seeds 0:500 --count 5000 --seed 1 [--threads 2]

which generates ``--count`` triples from the world seeds ``start:stop`` with the triple
RNG seeded by ``--seed``, hashes them in one Godot process and with the reference, and
diagnoses the first mismatches (exit status 1 if any). The triples mix
every kind of chunk the port must get right: surface (anywhere, poles, equator, all-negative
octant), face-neighbour pairs, chunks a few metres to ~90 m below the surface (where the
caves are), deep rock, the core and open air. Everything is derived from one integer seed
with ``random.Random``, so a run is reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import struct
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared_gen.constants import CHUNK_SIZE, SEED_MAX, VOXEL_SIZE
from shared_gen.encoding import chunk_hash
from shared_gen.planet import compute_lattice, field_params, generate_chunk
from shared_gen.solar_system import generate_solar_system

CHUNK_M = CHUNK_SIZE * VOXEL_SIZE
KINDS = ("surface", "neighbour", "pole", "equator", "negative", "cave", "deep", "air")

#: (stage name in the batch output, what it means), in generation order.
STAGES: tuple[tuple[str, str], ...] = (
    ("lattice_depth", "noise/lattice: terrain height -> depth below surface"),
    ("lattice_density", "noise/lattice: density (terrain, overhang, caves)"),
    ("lattice_biome", "lattice: biome (climate noise)"),
    ("lattice_rock", "lattice: rock"),
    ("lattice_ore", "lattice: ore (ore noise, ore kind)"),
    ("density", "voxel density (upsampling, quantization)"),
    ("material", "voxel material"),
)


@dataclass(frozen=True)
class Triple:
    """One chunk to compare, with the reason it was picked."""

    seed: int
    planet: int
    chunk: tuple[int, int, int]
    kind: str

    def label(self) -> str:
        x, y, z = self.chunk
        return f"seed={self.seed} planet={self.planet} chunk={x},{y},{z} ({self.kind})"

    def job(self, dump: bool = False) -> dict[str, Any]:
        return {"seed": str(self.seed), "planet": self.planet, "chunk": list(self.chunk),
                "dump": dump}


def _unit(rs: random.Random) -> tuple[float, float, float]:
    while True:
        v = (rs.gauss(0, 1), rs.gauss(0, 1), rs.gauss(0, 1))
        n = math.sqrt(sum(c * c for c in v))
        if n > 1e-6:
            return (v[0] / n, v[1] / n, v[2] / n)


def _chunk_at(d: tuple[float, float, float], radius_m: float, grid: int) -> tuple[int, int, int]:
    c = [math.floor(v * radius_m / CHUNK_M) for v in d]
    return (max(-grid, min(grid, c[0])), max(-grid, min(grid, c[1])),
            max(-grid, min(grid, c[2])))


def build_triples(count: int = 1000, seed: int = 20261124,
                  world_seeds: Iterable[int] | None = None) -> list[Triple]:
    """``count`` triples (at least), cycling through :data:`KINDS`; reproducible."""
    rs = random.Random(seed)
    if world_seeds is None:
        fixed = [0, 1, 42, 123456789, 2**32 + 7, SEED_MAX]
        world_seeds = fixed + [rs.randrange(SEED_MAX + 1) for _ in range(14)]
    seeds = list(world_seeds)
    out: list[Triple] = []
    n = 0
    while len(out) < count:
        kind = KINDS[n % len(KINDS)]
        n += 1
        ws = seeds[rs.randrange(len(seeds))]
        system = generate_solar_system(ws)
        pi = rs.randrange(len(system.planets))
        planet = system.planets[pi]
        r, a, g = float(planet.radius_m), planet.terrain_amplitude_m, planet.grid_radius_chunks
        d = _unit(rs)
        if kind == "pole":
            d = (rs.uniform(-0.05, 0.05), rs.choice((-1.0, 1.0)), rs.uniform(-0.05, 0.05))
        elif kind == "equator":
            t = rs.uniform(0.0, 2.0 * math.pi)
            d = (math.cos(t), rs.uniform(-0.03, 0.03), math.sin(t))
        elif kind == "negative":
            d = (-abs(d[0]) - 0.05, -abs(d[1]) - 0.05, -abs(d[2]) - 0.05)
        nd = math.sqrt(sum(c * c for c in d))
        d = (d[0] / nd, d[1] / nd, d[2] / nd)
        if kind in ("surface", "pole", "equator", "negative"):
            ch = _chunk_at(d, r + rs.uniform(-a, a), g)
        elif kind == "neighbour":
            base = _chunk_at(d, r, g)
            axis, step = rs.randrange(3), rs.choice((-1, 1))
            other = list(base)
            other[axis] = max(-g, min(g, other[axis] + step))
            out.append(Triple(ws, pi, base, kind))
            ch = (other[0], other[1], other[2])
        elif kind == "cave":
            ch = _chunk_at(d, r - rs.uniform(6.0, 90.0), g)
        elif kind == "deep":
            ch = _chunk_at(d, rs.uniform(0.0, max(0.0, r - a - 40.0)), g)
        else:  # air
            ch = _chunk_at(d, r + a + rs.uniform(12.0, 40.0), g)
        out.append(Triple(ws, pi, ch, kind))
    return out


def python_hashes(triples: Iterable[Triple]) -> list[str]:
    return [chunk_hash(generate_chunk(t.seed, t.planet, t.chunk)) for t in triples]


def _f64_bytes(a: np.ndarray) -> bytes:
    return (np.asarray(a, dtype=np.float64) + 0.0).astype("<f8").tobytes()


def python_stage_arrays(t: Triple) -> tuple[dict[str, bytes], list[list[int]]]:
    """The reference's bytes of every stage of :data:`STAGES`, and its resource nodes."""
    lat = compute_lattice(field_params(t.seed, t.planet), t.chunk)
    chunk = generate_chunk(t.seed, t.planet, t.chunk)
    arrays = {
        "lattice_depth": _f64_bytes(lat.depth),
        "lattice_density": _f64_bytes(lat.density),
        "lattice_biome": lat.biome.astype(np.uint8).tobytes(),
        "lattice_rock": lat.rock.astype(np.uint8).tobytes(),
        "lattice_ore": lat.ore.astype(np.uint8).tobytes(),
        "density": chunk.density.astype(np.int8).tobytes(),
        "material": chunk.material.astype(np.uint8).tobytes(),
    }
    res = [[n.index, n.resource_type, n.quantity, *n.voxel] for n in chunk.resources]
    return arrays, res


def python_digests(t: Triple) -> dict[str, str]:
    arrays, _ = python_stage_arrays(t)
    return {k: hashlib.sha256(v).hexdigest() for k, v in arrays.items()}


def _element(stage: str, data: bytes, index: int) -> str:
    if stage.startswith("lattice_"):
        size = 8 if stage in ("lattice_depth", "lattice_density") else 1
        i, j, k = index // 81, (index // 9) % 9, index % 9
        if size == 8:
            (v,) = struct.unpack_from("<d", data, index * 8)
            return f"lattice point {index} (i={i}, j={j}, k={k}) = {v!r}"
        return f"lattice point {index} (i={i}, j={j}, k={k}) = {data[index]}"
    x, y, z = index >> 10, (index >> 5) & 31, index & 31
    v = struct.unpack_from("<b" if stage == "density" else "<B", data, index)[0]
    return f"voxel {index} (x={x}, y={y}, z={z}) = {v}"


def diagnose(t: Triple, gd_result: dict[str, Any]) -> str:
    """Name the first stage whose bytes differ and its first differing element.

    ``gd_result`` is the batch's result for ``t`` generated with ``"dump": true``.
    """
    py, py_res = python_stage_arrays(t)
    dump = gd_result.get("dump") or {}
    for stage, meaning in STAGES:
        mine = bytes.fromhex(dump.get(stage, ""))
        ref = py[stage]
        if mine == ref:
            continue
        if len(mine) != len(ref):
            return f"{t.label()}: stage {stage} ({meaning}): {len(mine)} bytes vs {len(ref)}"
        size = 8 if stage in ("lattice_depth", "lattice_density") else 1
        first = next(i for i in range(len(ref)) if mine[i] != ref[i]) // size
        return (f"{t.label()}: first differing stage {stage} ({meaning}); reference "
                f"{_element(stage, ref, first)}, GDScript {_element(stage, mine, first)}")
    if gd_result.get("resources") != py_res:
        return (f"{t.label()}: first differing stage resources: reference {py_res}, "
                f"GDScript {gd_result.get('resources')}")
    return f"{t.label()}: every stage equal but the hash differs (header/encoding)"


def write_jobs(path: Path, triples: Iterable[Triple], dump: bool = False,
               systems: Iterable[int] = ()) -> None:
    path.write_text(json.dumps({"jobs": [t.job(dump) for t in triples],
                                "systems": [str(s) for s in systems]}))


def system_text(seed: int) -> str:
    """What ``python -m shared_gen system --seed S`` prints (without the newline)."""
    d = generate_solar_system(seed).to_dict()
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def system_seeds(count: int, seed: int) -> list[int]:
    """World seeds for the solar-system cross-check: edge values, then random ones."""
    rs = random.Random(seed)
    return [0, 1, 2**31, 2**32, 2**53 + 1, SEED_MAX] + [rs.randrange(SEED_MAX + 1)
                                                          for _ in range(count)]


def run_batch(triples: Sequence[Triple], workdir: Path, *extra: str, dump: bool = False,
              timeout: float = 3600) -> dict[str, Any]:
    """Run res://tools/hash_batch.gd on ``triples`` (one Godot process); its parsed output."""
    from godot_support import HEADLESS, PROJECT_DIR, import_project, run_godot

    import_project()
    jobs, out = workdir / "jobs.json", workdir / "results.json"
    write_jobs(jobs, triples, dump=dump)
    proc = run_godot([*HEADLESS, "--path", str(PROJECT_DIR), "-s", "res://tools/hash_batch.gd",
                      "--", "--in", str(jobs), "--out", str(out), *extra], timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"hash_batch.gd failed (exit {proc.returncode}): {proc.stderr}")
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gen_port.crosscheck",
                                 description="Cross-check the GDScript port on many chunks.")
    ap.add_argument("--world-seeds", default=None, metavar="START:STOP",
                    help="world seeds range(START, STOP) (default: the test's mix)")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261124, help="seed of the triple RNG")
    ap.add_argument("--threads", type=int, default=0, help="WorkerThreadPool workers")
    args = ap.parse_args(argv)
    seeds = None
    if args.world_seeds:
        a, b = (int(v) for v in args.world_seeds.split(":"))
        seeds = range(a, b)
    triples = build_triples(args.count, args.seed, seeds)
    t0 = time.perf_counter()
    want = python_hashes(triples)
    py_s = time.perf_counter() - t0
    extra = ("--threads", str(args.threads)) if args.threads > 0 else ()
    with tempfile.TemporaryDirectory() as tmp:
        data = run_batch(triples, Path(tmp), *extra)
        got = [r["hash"] for r in data["results"]]
        bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
        print(f"{len(triples)} chunks: {len(bad)} mismatches; GDScript "
              f"{data['elapsed_ms'] / 1000:.1f} s, Python {py_s:.1f} s")
        if bad:
            sample = [triples[i] for i in bad[:5]]
            dumped = run_batch(sample, Path(tmp), dump=True)
            for t, r in zip(sample, dumped["results"], strict=True):
                print(diagnose(t, r))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
