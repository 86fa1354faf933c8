#!/usr/bin/env python3
"""Benchmark of the client terrain (godot_project/terrain/): prints measured figures.

Usage (from the repository root)::

    .venv/bin/python tools/bench_client_terrain.py [--chunks N] [--stream N] [--seed S]
        [--planet P] [--walk-seconds S] [--edit-interval S] [--edit-radius M] [--fps N]
        [--quick]

Runs ``godot_project/tools/bench_terrain.gd`` in headless Godot (tools/godot) and prints:

* generate + mesh, milliseconds per surface chunk on one core (the GDScript generator port
  and the surface nets mesher with the one-voxel apron, over N chunks that hold the
  terrain surface near one point of the planet);
* the same work as WorkerThreadPool tasks (wall time / chunks);
* re-mesh after an edit (a 3.5 m hole carved at the surface: applying the delta, then
  re-meshing each touched chunk with its collision faces);
* the main thread's time per frame (PSTerrainStreamer.update_streaming: results, scheduling,
  mesh and collider uploads) while the streamer loads around a point until N chunk meshes
  are in (p50 / p99 / max), then while the focus walks along the surface at 8 m/s for
  --walk-seconds (re-planning, unloading, floating-origin shifts). Headless: the dummy
  renderer, so GPU upload costs are not in it;
* edit -> collision: during both of those, every --edit-interval seconds a 1.5 m sphere is
  carved or filled at the ground under the focus; the time (ms, frames) until every chunk
  it re-meshed has its new mesh uploaded, then (within the collision radius) its new
  collision attached, and the frames in which such a chunk had no collision at all.
  --fps 90 paces the frames like a headset (the default runs frames back to back, which
  gives the main thread more collision attaches per second of worker output than a game).

Figures only, no assertions. Targets (issue): generate + mesh <= 60 ms per chunk on one
core, re-mesh <= 20 ms, main-thread time per frame p99 <= 4 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GODOT = REPO / "tools" / "godot"
PROJECT = REPO / "godot_project"
LINE = re.compile(r"^BENCH (\S+) (\S+)$", re.MULTILINE)

LABELS = [
    ("processors", "processors"),
    ("surface_chunks", "surface chunks measured"),
    ("mean_vertices_per_chunk", "vertices per surface chunk (mean)"),
    ("mean_triangles_per_chunk", "triangles per surface chunk (mean)"),
    ("one_core_generate_ms_per_chunk", "generate, ms/chunk, one core"),
    ("one_core_mesh_ms_per_chunk", "mesh (apron + surface nets), ms/chunk, one core"),
    ("one_core_generate_plus_mesh_ms_per_chunk", "generate + mesh, ms/chunk, one core"),
    ("pool_generate_plus_mesh_ms_per_chunk", "generate + mesh, ms/chunk, worker pool (wall)"),
    ("edit_apply_delta_ms", "edit: apply the delta, ms"),
    ("edit_remeshed_chunks", "edit: chunks re-meshed"),
    ("remesh_after_edit_ms_per_chunk", "re-mesh after an edit, ms/chunk (with collision faces)"),
    ("remesh_after_edit_ms_worst_chunk", "re-mesh after an edit, ms, worst chunk"),
    ("stream_meshes", "streaming: chunk meshes loaded"),
    ("stream_chunks_loaded", "streaming: chunks generated"),
    ("stream_chunks_implicit", "streaming: chunks known air/buried (not generated)"),
    ("stream_seconds", "streaming: seconds"),
    ("main_thread_frames", "streaming: frames"),
    ("main_thread_ms_p50", "main thread ms/frame while streaming, p50"),
    ("main_thread_ms_p99", "main thread ms/frame while streaming, p99"),
    ("main_thread_ms_max", "main thread ms/frame while streaming, max"),
    ("walk_metres", "walking at 8 m/s: metres"),
    ("walk_frames", "walking: frames"),
    ("walk_meshes_now", "walking: chunk meshes loaded at the end"),
    ("walk_ms_p50", "main thread ms/frame while walking, p50"),
    ("walk_ms_p99", "main thread ms/frame while walking, p99"),
    ("walk_ms_max", "main thread ms/frame while walking, max"),
    ("edit_probes", "edit -> collision: edits followed (streaming + walking)"),
    ("edit_probes_abandoned", "edit -> collision: edits not finished in 10 s (dropped)"),
    ("edit_probe_apply_ms_p50", "edit -> collision: apply the sphere, ms, p50"),
    ("edit_to_mesh_ms_p50", "edit -> new meshes uploaded, ms, p50"),
    ("edit_to_mesh_ms_max", "edit -> new meshes uploaded, ms, max"),
    ("edit_to_collision_ms_p50", "edit -> new collision attached, ms, p50"),
    ("edit_to_collision_ms_p90", "edit -> new collision attached, ms, p90"),
    ("edit_to_collision_ms_max", "edit -> new collision attached, ms, max"),
    ("edit_to_collision_frames_p50", "edit -> new collision attached, frames, p50"),
    ("edit_to_collision_frames_max", "edit -> new collision attached, frames, max"),
    ("edit_collision_after_mesh_ms_p50", "new collision after the new mesh, ms, p50"),
    ("edit_collision_after_mesh_ms_max", "new collision after the new mesh, ms, max"),
    ("edit_frames_without_collision", "frames an edited chunk had no collision at all"),
]


def run(
    chunks: int,
    stream: int,
    seed: int,
    planet: int,
    walk_s: float,
    timeout: float,
    edit_interval: float = 1.0,
    edit_radius: float = 1.5,
    fps: int = 0,
) -> dict[str, str]:
    """Run the GDScript benchmark; returns its figures by key. Raises on failure."""
    cmd = [
        str(GODOT), "--headless", "--xr-mode", "off", "--path", str(PROJECT),
        "-s", "res://tools/bench_terrain.gd", "--",
        "--chunks", str(chunks), "--stream", str(stream),
        "--seed", str(seed), "--planet", str(planet), "--walk-seconds", str(walk_s),
        "--edit-interval", str(edit_interval), "--edit-radius", str(edit_radius),
        "--fps", str(fps),
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )
    figures = dict(LINE.findall(proc.stdout))
    if proc.returncode != 0 or "done" not in proc.stdout.split("BENCH ")[-1]:
        raise RuntimeError(f"bench failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=16, help="surface chunks to time")
    parser.add_argument("--stream", type=int, default=200, help="chunk meshes to stream in")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--planet", type=int, default=0)
    parser.add_argument("--walk-seconds", type=float, default=15.0, help="0: no walk")
    parser.add_argument(
        "--edit-interval", type=float, default=1.0, help="seconds between edits; 0: none"
    )
    parser.add_argument("--edit-radius", type=float, default=1.5, help="metres (tool: 0.5-4)")
    parser.add_argument(
        "--fps", type=int, default=0, help="cap the frame rate like a headset (90); 0: no cap"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 chunks, 20 meshes, 2 s walk"
    )
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.chunks, args.stream, args.walk_seconds = 2, 20, 2.0
    try:
        figures = run(
            args.chunks,
            args.stream,
            args.seed,
            args.planet,
            args.walk_seconds,
            args.timeout,
            args.edit_interval,
            args.edit_radius,
            args.fps,
        )
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"client terrain benchmark: seed {args.seed}, planet {args.planet}, "
        f"edit radius {args.edit_radius} m, fps cap {args.fps or 'none'}, load {load:.1f}"
    )
    for key, label in LABELS:
        if key in figures:
            print(f"  {label:<58} {figures[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
