#!/usr/bin/env python3
"""Benchmark of surface chunk generation (shared_gen) on one core, against a noise library.

Usage (from the repository root)::

    .venv/bin/python tools/bench_gen.py [--quick] [--chunks N] [--repeat R]

A fixed set of N surface chunks (directions on a Fibonacci sphere, spread over several
seeds and every planet of each system) is generated R times with ``generate_chunk``
(density + materials + resources); the figures are the median / p90 over the chunks of the
per-chunk best (and median) of the R repeats. The process is pinned to one CPU (the least
busy one over a short sample of /proc/stat).
Solar systems / field parameters are warmed first (a server caches them per planet).

Then, in the same run, the per-stage times (lattice, upsample + quantize, materials,
resources), and the *same number of noise samples* the lattice stage evaluates (every
``perlin3`` point, i.e. lattice points x octaves x fields, counted by wrapping perlin3)
pushed through opensimplex's vectorised ``noise3array`` and, when installed,
pyfastnoiselite (FastNoiseLite, C), one call per chunk with that chunk's sample count.
Printed figures only; no assertion on time.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import shared_gen.noise as sg_noise  # noqa: E402
import shared_gen.planet as sg_planet  # noqa: E402
from shared_gen import chunk_hash, generate_chunk, generate_solar_system  # noqa: E402
from shared_gen.planet import (  # noqa: E402
    Chunk,
    check_chunk,
    compute_lattice,
    field_params,
    place_resources,
    quantize_density,
    surface_chunk,
    upsample,
    voxel_materials,
)

SEEDS = (1, 42, 2024, 123456789, 2**63 - 1)
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
TARGET_MS = 5.0

Case = tuple[int, int, tuple[int, int, int]]


def _busy(cpus: set[int]) -> dict[int, float]:
    """Fraction of non-idle time of each CPU over 0.3 s (from /proc/stat)."""

    def read() -> dict[int, tuple[int, int]]:
        out = {}
        with open("/proc/stat") as f:
            for line in f:
                name, *vals = line.split()
                if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                    v = [int(x) for x in vals]
                    out[int(name[3:])] = (sum(v), v[3] + v[4])  # total, idle + iowait
        return out

    a = read()
    time.sleep(0.3)
    b = read()
    return {c: 1.0 - (b[c][1] - a[c][1]) / max(1, b[c][0] - a[c][0]) for c in a if c in b}


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpus = os.sched_getaffinity(0)
    try:
        busy = _busy(cpus)
        cpu = min(busy, key=lambda c: (busy[c], c))
        note = f" ({100.0 * busy[cpu]:.0f} % busy before the run)"
    except (OSError, ValueError):
        cpu, note = min(cpus), ""
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}{note}"


def chunk_set(n: int) -> list[Case]:
    """n surface chunks: planets of SEEDS in turn, Fibonacci-sphere directions."""
    planets = [(s, i) for s in SEEDS for i in range(len(generate_solar_system(s).planets))]
    out: list[Case] = []
    for m in range(n):
        seed, idx = planets[m % len(planets)]
        y = 1.0 - 2.0 * (m + 0.5) / n
        r = math.sqrt(max(0.0, 1.0 - y * y))
        d = (r * math.cos(GOLDEN_ANGLE * m), y, r * math.sin(GOLDEN_ANGLE * m))
        out.append((seed, idx, surface_chunk(seed, idx, d)))
    return out


def staged(case: Case, t: list[float]) -> Chunk:
    """generate_chunk split into its stages; adds each stage's seconds into ``t``."""
    seed, idx, coord = case
    t0 = time.perf_counter()
    p = field_params(seed, idx)
    check_chunk(p, coord)
    lat = compute_lattice(p, coord)
    t1 = time.perf_counter()
    depth = upsample(lat.depth)
    q = quantize_density(upsample(lat.density))
    t2 = time.perf_counter()
    mat = voxel_materials(lat, q, depth)
    t3 = time.perf_counter()
    res = place_resources(p, coord, lat, q, depth)
    t4 = time.perf_counter()
    t[0] += t1 - t0
    t[1] += t2 - t1
    t[2] += t3 - t2
    t[3] += t4 - t3
    return Chunk(seed, idx, p.planet_seed, coord, q, mat, res)


def count_samples(cases: list[Case]) -> list[np.ndarray]:
    """Per chunk, the (3, n) float64 coordinates of every perlin3 sample of its lattice
    stage (all fields, all octaves), recorded by wrapping perlin3."""
    recorded: list[np.ndarray] = []
    real = sg_noise.perlin3

    def spy(seed: int, x: Any, y: Any, z: Any) -> Any:
        recorded.append(np.stack([np.ravel(x), np.ravel(y), np.ravel(z)]))
        return real(seed, x, y, z)

    per_chunk = []
    sg_noise.perlin3 = spy  # type: ignore[assignment]
    sg_planet.perlin3 = spy  # type: ignore[assignment]
    try:
        for seed, idx, coord in cases:
            recorded.clear()
            compute_lattice(field_params(seed, idx), coord)
            per_chunk.append(np.concatenate(recorded, axis=1) if recorded
                             else np.zeros((3, 0)))
    finally:
        sg_noise.perlin3 = real
        sg_planet.perlin3 = real
    return per_chunk


def time_calls(fn: Callable[[np.ndarray], object], batches: list[np.ndarray],
               repeat: int) -> float:
    """Best-of-``repeat`` total seconds of ``fn`` over every batch."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for b in batches:
            fn(b)
        best = min(best, time.perf_counter() - t0)
    return best


def libraries() -> list[tuple[str, Callable[[np.ndarray], object]]]:
    libs: list[tuple[str, Callable[[np.ndarray], object]]] = []

    def own(b: np.ndarray) -> object:
        return sg_noise.perlin3(1337, b[0], b[1], b[2])

    libs.append(("shared_gen perlin3 (numpy, same points)", own))
    try:
        import opensimplex

        opensimplex.seed(1337)
        one = np.zeros(1)

        def osx(b: np.ndarray) -> object:
            # noise3array evaluates the grid x * y * z: n x-values, one y, one z = n samples
            return opensimplex.noise3array(b[0], one, one)

        libs.append(("opensimplex.noise3array", osx))
    except ImportError:
        print("opensimplex not installed: pip install opensimplex", file=sys.stderr)
    try:
        from pyfastnoiselite.pyfastnoiselite import FastNoiseLite, NoiseType

        fnl = FastNoiseLite(1337)
        fnl.noise_type = NoiseType.NoiseType_Perlin
        fnl.frequency = 1.0

        def fast(b: np.ndarray) -> object:
            return fnl.gen_from_coords(b.astype(np.float32))

        libs.append(("pyfastnoiselite (FastNoiseLite Perlin, C, float32)", fast))
    except ImportError:
        pass
    return libs


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few chunks, one repeat (CI)")
    ap.add_argument("--chunks", type=int, default=None, help="surface chunks (default 200)")
    ap.add_argument("--repeat", type=int, default=None, help="repeats (default 5)")
    args = ap.parse_args(argv)
    n = args.chunks or (8 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 5)

    pinned = pin_one_core()
    cases = chunk_set(n)
    for seed, idx, _ in cases:
        field_params(seed, idx)
    for c in cases[: min(5, n)]:
        generate_chunk(*c)  # warm numpy
    print(f"shared_gen surface chunk benchmark: {n} chunks from {len(SEEDS)} seeds "
          f"({len({(s, i) for s, i, _ in cases})} planets), {repeat} repeat(s), {pinned}, "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, load average "
          f"{os.getloadavg()[0]:.2f}")

    # end to end: generate_chunk. Per chunk, the best and the median of the repeats: the
    # best (as timeit recommends) removes interference from other processes on the VM.
    per_chunk: list[list[float]] = [[] for _ in cases]
    cpu_chunk: list[list[float]] = [[] for _ in cases]
    wall = 0.0
    for _ in range(repeat):
        t_pass = time.perf_counter()
        for k, c in enumerate(cases):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            generate_chunk(*c)
            per_chunk[k].append(time.perf_counter() - t0)
            cpu_chunk[k].append(time.thread_time() - c0)
        wall += time.perf_counter() - t_pass
    best = [min(v) * 1000.0 for v in per_chunk]
    med = [statistics.median(v) * 1000.0 for v in per_chunk]
    cpu = [statistics.median(v) * 1000.0 for v in cpu_chunk]
    median_ms = statistics.median(best)
    gen_total_s = sum(best) / 1000.0
    print(f"ms per surface chunk (best of {repeat} per chunk): median {median_ms:.2f}  "
          f"p90 {pct(best, 0.9):.2f}  min {min(best):.2f}  max {max(best):.2f}   "
          f"(target: median <= {TARGET_MS:.0f} ms: "
          f"{'met' if median_ms <= TARGET_MS else 'NOT met'})")
    print(f"ms per surface chunk (median of {repeat} per chunk): median "
          f"{statistics.median(med):.2f}  p90 {pct(med, 0.9):.2f}")
    print(f"CPU ms per surface chunk (thread time, median of {repeat}): median "
          f"{statistics.median(cpu):.2f}  p90 {pct(cpu, 0.9):.2f}")
    print(f"chunks/s (one core): {n / gen_total_s:.0f} from the best times, "
          f"{n * repeat / wall:.0f} over all passes")

    # per stage: per chunk the best of the repeats, then the mean over the chunks
    stage_best = [[math.inf] * 4 for _ in cases]
    for _ in range(repeat):
        for k, c in enumerate(cases):
            t = [0.0] * 4
            staged(c, t)
            stage_best[k] = [min(x, y) for x, y in zip(stage_best[k], t, strict=True)]
    for c in cases[:3]:
        assert chunk_hash(staged(c, [0.0] * 4)) == chunk_hash(generate_chunk(*c)), c
    names = ("lattice (noise fields)", "upsample + quantize", "materials", "resources")
    stages = [sum(row[i] for row in stage_best) for i in range(4)]
    total = sum(stages)
    print(f"per stage, ms per chunk (best of {repeat}, mean over chunks):")
    for name, st in zip(names, stages, strict=True):
        print(f"  {name:24s} {st * 1000.0 / n:7.3f}  ({100.0 * st / total:4.1f} %)")

    # the same noise samples through libraries
    batches = count_samples(cases)
    samples = sum(b.shape[1] for b in batches)
    print(f"noise samples (perlin3 points of the lattice stage, all fields x octaves): "
          f"{samples} total, {samples / n:.0f} per chunk")
    print(f"generation of the {n} chunks (sum of per-chunk best times): "
          f"{gen_total_s * 1000:.1f} ms")
    for name, fn in libraries():
        slow = name.startswith("opensimplex")  # pure Python: ~17 us/sample, one pass
        secs = time_calls(fn, batches, 1 if args.quick or slow else min(repeat, 3))
        print(f"  {name}: {secs * 1000:.1f} ms for the same {samples} samples "
              f"({secs * 1e9 / max(samples, 1):.0f} ns/sample); "
              f"ratio library / full generation = {secs / gen_total_s:.2f}")
    print("(ratio > 1: the library needs longer for the noise alone than shared_gen for "
          "the whole chunks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
