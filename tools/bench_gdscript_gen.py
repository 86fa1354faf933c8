#!/usr/bin/env python3
"""Benchmark the GDScript generator port against the Python reference on the same chunks.

    .venv/bin/python tools/bench_gdscript_gen.py [--chunks 24] [--repeat 3] [--seed 42]
        [--threads N] [--kind surface|deep|air]

Picks ``--chunks`` surface chunks (random directions from a fixed RNG, across the
planets of ``--seed``), times them in one headless Godot process
(``res://tools/bench_gen.gd``: best of ``--repeat`` per chunk on one thread, then chunks/s
through WorkerThreadPool on ``--threads`` workers, default all cores) and with the Python
reference in this process, and prints both with the ratio. Figures only, no assertions;
the hashes of both sides are compared and a mismatch is reported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from gen_port.crosscheck import Triple, write_jobs  # noqa: E402
from godot_support import HEADLESS, PROJECT_DIR, import_project, run_godot  # noqa: E402

from shared_gen.encoding import chunk_hash  # noqa: E402
from shared_gen.planet import compute_lattice, field_params, generate_chunk  # noqa: E402
from shared_gen.solar_system import generate_solar_system  # noqa: E402


def pick_chunks(seed: int, count: int, kind: str) -> list[Triple]:
    rs = random.Random(1234)
    planets = generate_solar_system(seed).planets
    out = []
    for n in range(count):
        p = planets[n % len(planets)]
        d = [rs.gauss(0, 1) for _ in range(3)]
        norm = math.sqrt(sum(v * v for v in d))
        radius = {"surface": p.radius_m, "deep": p.radius_m * 0.5,
                  "air": p.radius_m + p.terrain_amplitude_m + 24.0}[kind]
        ch = tuple(math.floor(v / norm * radius / 16.0) for v in d)
        out.append(Triple(seed, p.index, ch, kind))  # type: ignore[arg-type]
    return out


def python_times(triples: list[Triple], repeat: int) -> tuple[list[float], list[float],
                                                                 list[str]]:
    single, lattice, hashes = [], [], []
    generate_chunk(triples[0].seed, triples[0].planet, triples[0].chunk)  # warm caches
    for t in triples:
        best = best_lat = math.inf
        for r in range(repeat):
            t0 = time.perf_counter()
            chunk = generate_chunk(t.seed, t.planet, t.chunk)
            best = min(best, (time.perf_counter() - t0) * 1000.0)
            if r == 0:
                hashes.append(chunk_hash(chunk))
            t0 = time.perf_counter()
            compute_lattice(field_params(t.seed, t.planet), t.chunk)
            best_lat = min(best_lat, (time.perf_counter() - t0) * 1000.0)
        single.append(best)
        lattice.append(best_lat)
    return single, lattice, hashes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--kind", choices=("surface", "deep", "air"), default="surface")
    args = ap.parse_args()

    triples = pick_chunks(args.seed, args.chunks, args.kind)
    import_project()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = Path(tmp) / "jobs.json"
        write_jobs(jobs, triples)
        proc = run_godot([*HEADLESS, "--path", str(PROJECT_DIR), "-s",
                          "res://tools/bench_gen.gd", "--", "--in", str(jobs), "--repeat",
                          str(args.repeat), "--threads", str(args.threads)], timeout=1800)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return 1
    gd = json.loads(proc.stdout.strip().splitlines()[-1])
    py_single, py_lat, py_hashes = python_times(triples, args.repeat)

    print(f"{args.kind} chunks of seed {args.seed}, best of {args.repeat} per chunk")
    print(f"{'chunk':<32} {'GDScript ms':>12} {'(lattice)':>10} {'Python ms':>10} "
          f"{'(lattice)':>10} {'ratio':>7}")
    for t, g, gl, p, pl in zip(triples, gd["single_ms"], gd["lattice_ms"], py_single, py_lat,
                               strict=True):
        name = f"p{t.planet} {t.chunk}"
        print(f"{name:<32} {g:>12.2f} {gl:>10.2f} {p:>10.2f} {pl:>10.2f} {g / p:>7.2f}")
    g_mean, p_mean = statistics.fmean(gd["single_ms"]), statistics.fmean(py_single)
    print(f"{'mean':<32} {g_mean:>12.2f} {statistics.fmean(gd['lattice_ms']):>10.2f} "
          f"{p_mean:>10.2f} {statistics.fmean(py_lat):>10.2f} {g_mean / p_mean:>7.2f}")
    print(f"{'median':<32} {statistics.median(gd['single_ms']):>12.2f} {'':>10} "
          f"{statistics.median(py_single):>10.2f}")
    print(f"{'max':<32} {max(gd['single_ms']):>12.2f} {'':>10} {max(py_single):>10.2f}")
    print(f"GDScript WorkerThreadPool: {gd['chunks_per_s_pool']:.1f} chunks/s on "
          f"{gd['pool_threads']} workers, {gd['chunks_per_s_pool_1']:.1f} chunks/s on 1 worker "
          f"(x{gd['chunks_per_s_pool'] / gd['chunks_per_s_pool_1']:.2f}); "
          f"GDScript one thread {1000.0 / g_mean:.1f} chunks/s; Python one thread "
          f"{1000.0 / p_mean:.1f} chunks/s")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    bad = sum(a != b for a, b in zip(gd["hashes"], py_hashes, strict=True))
    print("hashes: all equal" if bad == 0 else f"hashes: {bad} MISMATCHES")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
