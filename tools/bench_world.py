#!/usr/bin/env python3
"""Benchmark of the authoritative world: edit apply time, delta payload size, flush time.

Usage (from the repository root)::

    .venv/bin/python tools/bench_world.py [--seed 42] [--planet 0] [--repeat 50]

Edits are applied around the spawn on chunks already in memory (generation is measured
separately); times are medians in milliseconds. The flush writes to a temporary SQLite
file (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.persistence import WorldStore
from server.world import EditMode, World, WorldConfig
from server.world.delta import changed_count


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def bench_edits(seed: int, planet: int, repeat: int) -> None:
    print(f"edit apply time (median of {repeat}, chunks cached), and the payload of the")
    print("most-changed chunk after ONE edit of that kind:")
    print(f"{'mode':9} {'r (m)':>5} {'apply ms':>9} {'chunks':>6} {'soil':>6} "
          f"{'voxels':>6} {'payload B':>9} {'encode ms':>9}")
    for mode in EditMode:
        for radius in (1.0, 2.0, 4.0):
            times: list[float] = []
            first = None
            w = World(WorldConfig(seed, planet, canister_capacity=10**9, edit_burst=10**6,
                                  edit_rate_per_s=1e9))
            p = w.join(None, 0.0)
            p.canisters[:] = [10**8, 0]
            c = p.position
            w.terrain.read_region(*_box(c))  # warm the cache: generation is not the edit
            for i in range(repeat):
                # alternate with the opposite edit so each one has something to do
                for m in (mode, _opposite(mode)):
                    t0 = time.perf_counter()
                    res = w.apply_edit(p.player_id, m, c, radius, i, float(i))
                    dt = time.perf_counter() - t0
                    if m == mode:
                        times.append(dt)
                        if first is None:
                            first = res
                            sizes = []
                            for k in res.chunk_versions:
                                t1 = time.perf_counter()
                                w.terrain._payloads.pop(k, None)
                                _, data = w.chunk_delta_payload(k)
                                enc = time.perf_counter() - t1
                                assert data is not None
                                sizes.append((changed_count(data), len(data), enc))
            assert first is not None
            vox, size, enc = max(sizes) if sizes else (0, 0, 0.0)
            print(f"{mode.name:9} {radius:5.1f} {median_ms(times):9.3f} "
                  f"{len(first.chunk_versions):6d} {abs(first.soil_delta):6d} {vox:6d} "
                  f"{size:9d} {enc * 1000:9.3f}")


def _opposite(mode: EditMode) -> EditMode:
    return EditMode.ELEVATE if mode == EditMode.EXCAVATE else EditMode.EXCAVATE


def _box(c: tuple[float, float, float]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    from server.world.csg import sphere_box

    return sphere_box(c, 12.0)


def bench_payload_growth(seed: int, planet: int) -> None:
    print("\npayload of the spawn chunk as edits accumulate (random excavate/elevate r=2):")
    rnd = random.Random(1)
    w = World(WorldConfig(seed, planet, canister_capacity=10**9, edit_burst=10**6,
                          edit_rate_per_s=1e9))
    p = w.join(None, 0.0)
    p.canisters[:] = [10**8, 0]
    c0 = p.position
    for n in range(1, 201):
        c = tuple(v + rnd.uniform(-5, 5) for v in c0)
        w.apply_edit(p.player_id, rnd.choice([EditMode.EXCAVATE, EditMode.ELEVATE]), c,
                     2.0, n, float(n))
        if n in (1, 10, 50, 200):
            sizes = [len(d) for k in w.terrain.modified_chunks()
                     if (d := w.chunk_delta_payload(k)[1]) is not None]
            print(f"  after {n:3d} edits: {len(sizes)} chunks, payload bytes "
                  f"max {max(sizes)}, mean {statistics.mean(sizes):.0f}")


def bench_flush(seed: int, planet: int) -> None:
    print("\nwrite-behind flush to SQLite (one transaction):")
    for n_edits in (1, 10, 100):
        with tempfile.TemporaryDirectory() as tmp:
            w = World(WorldConfig(seed, planet, canister_capacity=10**9, edit_burst=10**6,
                                  edit_rate_per_s=1e9), WorldStore.from_data_dir(tmp))
            p = w.join("bench", 0.0)
            p.canisters[:] = [10**8, 0]
            c0 = p.position
            r0 = math.sqrt(sum(v * v for v in c0)) - 0.5
            w.flush()
            rnd = random.Random(n_edits)
            accepted = 0
            for i in range(n_edits):
                t = tuple(v + rnd.uniform(-24.0, 24.0) for v in c0)
                k = r0 / math.sqrt(sum(v * v for v in t))  # back down to the surface
                c = (t[0] * k, t[1] * k, t[2] * k)
                w.set_transform(p.player_id, c, (0.0, 0.0, 0.0, 1.0))
                accepted += w.apply_edit(p.player_id, EditMode.EXCAVATE, c, 2.0, i,
                                         float(i)).accepted
            dirty = w.terrain.dirty_count
            t0 = time.perf_counter()
            w.flush()
            dt = time.perf_counter() - t0
            w.close()
            db = Path(tmp) / "world.db"
            print(f"  {n_edits:3d} edits ({accepted:3d} accepted) -> {dirty:3d} dirty chunks: "
                  f"flush {dt * 1000:7.2f} ms (world.db after close {db.stat().st_size} B)")


def bench_generation(seed: int, planet: int) -> None:
    from shared_gen import generate_chunk, surface_chunk

    c = surface_chunk(seed, planet, (1.0, 0.0, 0.0))
    t: list[float] = []
    for i in range(10):
        t0 = time.perf_counter()
        generate_chunk(seed, planet, (c[0], c[1] + i, c[2]))
        t.append(time.perf_counter() - t0)
    print(f"\nchunk generation (first touch of a chunk): {median_ms(t):.2f} ms median")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--planet", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=50)
    a = ap.parse_args()
    bench_edits(a.seed, a.planet, a.repeat)
    bench_payload_growth(a.seed, a.planet)
    bench_flush(a.seed, a.planet)
    bench_generation(a.seed, a.planet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
