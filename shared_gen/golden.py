"""Golden vectors for the client port's tests (``python -m shared_gen golden --out DIR``).

Each file is JSON. Integers are exact; every float is written twice: as a JSON number
(Python's shortest round-trip repr) and as ``"<16 hex digits>"``, the IEEE-754 bit
pattern (``struct.pack('>d')``), so a port compares bits, not decimal text.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from . import noise
from .encoding import chunk_hash, encode_chunk
from .hashing import Rng, get_chunk_seed, get_planet_seed, hash_ints
from .names import make_name
from .planet import compute_lattice, field_params, generate_chunk, surface_chunk
from .solar_system import generate_solar_system

SEEDS = (0, 1, 42, 123456789, 2**32 + 7, 2**63 - 1)


def f64_hex(x: float) -> str:
    """Big-endian hex of the float64 bit pattern."""
    return struct.pack(">d", float(x)).hex()


def _floats(a: Any) -> dict[str, Any]:
    arr = np.asarray(a, dtype=np.float64).ravel()
    return {"values": [float(v) for v in arr], "bits": [f64_hex(v) for v in arr]}


def hashing_vectors() -> dict[str, Any]:
    cases = [
        (0, ()), (0, (0,)), (1, (2, 3)), (42, (-1, -2, -3)), (2**63 - 1, (2**31, -2**31)),
        (123456789, (7, 8, 9, 10, 11)), (2**32 + 5, (1,)),
    ]
    out: dict[str, Any] = {
        "hash_ints": [{"seed": s, "values": list(v), "hash": hash_ints(s, *v)} for s, v in cases],
        "planet_seed": [{"system_seed": s, "index": i, "seed": get_planet_seed(s, i)}
                        for s in SEEDS for i in range(3)],
        "chunk_seed": [{"planet_seed": p, "chunk": list(ch), "seed": get_chunk_seed(p, ch)}
                       for p in (0, 99, 2**32 - 1)
                       for ch in ((0, 0, 0), (-1, 2, -3), (60, -60, 7))],
    }
    streams = []
    for seed, key in ((0, ()), (42, (1, 2)), (2**63 - 1, (-5,))):
        rng = Rng(seed, *key)
        u32 = [rng.next_u32() for _ in range(8)]
        rng = Rng(seed, *key)
        below = [rng.below(n) for n in (1, 2, 3, 10, 32, 1000, 2**31 - 1, 7)]
        rng = Rng(seed, *key)
        floats = [rng.next_float() for _ in range(4)]
        streams.append({"seed": seed, "key": list(key), "u32": u32, "below_n":
                        [1, 2, 3, 10, 32, 1000, 2**31 - 1, 7], "below": below,
                        "float": _floats(floats)})
    out["rng"] = streams
    names = []
    for seed in SEEDS:
        rng = Rng(seed, 77)
        names.append({"seed": seed, "key": [77], "names": [make_name(rng, 2, 3) for _ in range(5)]})
    out["names"] = names
    return out


def noise_vectors() -> dict[str, Any]:
    rs = np.random.default_rng(2024)
    pts = rs.uniform(-300.0, 300.0, size=(3, 64))
    pts[:, :4] = [[0.0, 1.0, -1.5, 1e6 + 0.25], [0.0, 2.5, -0.25, -7.75], [0.0, 3.0, 4.5, 0.5]]
    x, y, z = pts
    out: dict[str, Any] = {"points": {"x": _floats(x), "y": _floats(y), "z": _floats(z)}}
    for seed in (0, 1337, 2**32 - 1):
        out[f"perlin3_{seed}"] = _floats(noise.perlin3(seed, x, y, z))
        out[f"perlin2_{seed}"] = _floats(noise.perlin2(seed, x, y))
        out[f"fbm3_{seed}_5"] = _floats(noise.fbm3(seed, x * 0.01, y * 0.01, z * 0.01, 5))
        out[f"fbm2_{seed}_3"] = _floats(noise.fbm2(seed, x * 0.01, y * 0.01, 3, 2.0, 0.5))
    return out


def golden_chunks() -> list[tuple[int, int, tuple[int, int, int], str]]:
    """(world seed, planet, chunk, label) of the full chunks written as golden vectors."""
    out: list[tuple[int, int, tuple[int, int, int], str]] = []
    seed = 42
    out.append((seed, 0, surface_chunk(seed, 0, (1.0, 0.3, 0.2)), "surface"))
    out.append((seed, 2, surface_chunk(seed, 2, (0.0, 1.0, 0.0)), "surface_pole"))
    out.append((seed, 1, surface_chunk(seed, 1, (-0.5, -0.1, -0.8)), "surface_negative"))
    out.append((seed, 0, (0, 0, 0), "core"))
    out.append((seed, 0, (0, 45, 0), "open_air"))
    out.append((seed, 0, find_cave_chunk(seed, 0), "cave"))
    return out


def find_cave_chunk(seed: int, planet: int) -> tuple[int, int, int]:
    """First chunk (deterministic scan inward from the surface) with air below the surface."""
    p = field_params(seed, planet)
    top = surface_chunk(seed, planet, (0.3, -0.4, 0.85))
    for depth in range(1, 7):
        for dx in range(-3, 4):
            ch = (top[0] + dx, top[1], top[2] - depth)
            if max(abs(v) for v in ch) > p.grid_radius:
                continue
            lat = compute_lattice(p, ch)
            if ((lat.depth >= 6.0) & (lat.density < 0.0)).any():
                return ch
    raise RuntimeError("no cave chunk found")  # pragma: no cover


def chunk_vector(seed: int, planet: int, ch: tuple[int, int, int], label: str) -> dict[str, Any]:
    chunk = generate_chunk(seed, planet, ch)
    lat = compute_lattice(field_params(seed, planet), ch)
    return {
        "label": label,
        "world_seed": seed,
        "planet": planet,
        "chunk": list(ch),
        "hash": chunk_hash(chunk),
        "encoding_hex": encode_chunk(chunk).hex(),
        "lattice": {
            "density": _floats(lat.density),
            "depth": _floats(lat.depth),
            "biome": lat.biome.ravel().tolist(),
            "ore": lat.ore.ravel().tolist(),
            "rock": lat.rock.ravel().tolist(),
        },
        "resources": [
            {"index": n.index, "type": n.resource_type, "quantity": n.quantity,
             "voxel": list(n.voxel), "position_m": list(n.position_m)}
            for n in chunk.resources
        ],
    }


def write_golden(out_dir: Path) -> list[Path]:
    """Write every golden file into ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "hashing.json": hashing_vectors(),
        "noise.json": noise_vectors(),
        "systems.json": {str(s): generate_solar_system(s).to_dict() for s in SEEDS},
        "chunks.json": [chunk_vector(*args) for args in golden_chunks()],
    }
    paths = []
    for name, data in files.items():
        path = out_dir / name
        path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
        paths.append(path)
    return paths
