"""The client terrain's GDScript tests (godot_project/tests/test_terrain_*.gd), from pytest.

They cover the surface nets mesher (watertight closed surfaces, also across chunk seams;
normals and faces pointing out of the solid; the same chunk giving the same mesh), the
streamer (nearest first, collision, server state and delta merge, edits re-meshing only
the touched chunks and their seam neighbours, the floating origin, unloading, gravity
towards the planet's centre), the server's chunk entries (sparse / full / diff payloads
over generation, versions) and start-up (VR or spectator, command-line options).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from godot_support import REPO_ROOT, Godot, parse_summary

EXPECTED_FILES = (
    "test_terrain_mesher",
    "test_terrain_streamer",
    "test_terrain_server_merge",
    "test_terrain_startup",
    "test_terrain_edit_collision",
)


@pytest.mark.timeout(900)
def test_terrain_gdscript_suite_passes(godot: Godot) -> None:
    proc = godot.run_tests("--filter", "test_terrain_", timeout=600)
    log = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-3000:]}"
    summary = parse_summary(proc.stdout)
    assert summary is not None, log
    passed, failed = summary
    assert failed == 0 and proc.returncode == 0, log
    assert passed >= 24, log
    for name in EXPECTED_FILES:
        ran = re.search(rf"^PASS {name}\.", proc.stdout, re.MULTILINE)
        assert ran, f"{name} did not run\n{log}"


@pytest.mark.timeout(600)
def test_terrain_benchmark_prints_its_figures(godot: Godot) -> None:
    """Smoke run of tools/bench_client_terrain.py --quick: every figure is printed."""
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "bench_client_terrain.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for label in (
        "generate + mesh, ms/chunk, one core",
        "generate + mesh, ms/chunk, worker pool",
        "re-mesh after an edit, ms/chunk",
        "main thread ms/frame while streaming, p99",
        "main thread ms/frame while walking, p99",
    ):
        line = next((ln for ln in proc.stdout.splitlines() if label in ln), "")
        assert re.search(r"\d+\.\d+$", line), f"{label!r} missing:\n{proc.stdout}"
