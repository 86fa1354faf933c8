"""The Linux export: built with the "Linux" preset of export_presets.cfg and smoke-run.

``tools/godot --headless --path godot_project --export-release "Linux" OUT`` builds the
game and its .pck (GODOT_CI.md section 5). To run here, a copy of the binary gets the
private root's loader as its interpreter (patchelf) and the root's libraries through
LD_LIBRARY_PATH on that process only; on a player's machine the export runs as it is.
The smoke runs start the exported game under Xvfb for a bounded number of frames
(``--quit-after``) and check that it picked the expected scene, exited with 0 and logged
no error: the default Mobile renderer on Vulkan (no XR runtime: the spectator), the
Compatibility renderer for a spectator, and OpenXR on Monado (the VR scene).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from godot_support import (
    PROJECT_DIR,
    REPO_ROOT,
    XVFB_SCREEN,
    Godot,
    godot_root,
    import_project,
    require,
    xr_runtime_json,
)

from e2e.xr_support import monado_service

PRESET = "Linux"
GAME = "planetary_survival.x86_64"
EXPORT_TIMEOUT_S = 300
RUN_TIMEOUT_S = 240
# Messages of the host's own programs that a child process (sh) prints because it inherits
# LD_LIBRARY_PATH pointing into the root (GODOT_CI.md section 2); not the game's.
HOST_NOISE = ("sh: symbol lookup error",)
# Godot 4.6.3's OpenXR shutdown when a VR session ends by --quit-after (engine messages
# at exit, after the run itself was clean).
OPENXR_EXIT_NOISE = (
    "RID allocations of type 'N9OpenXRAPI18InteractionProfileE' were leaked at exit",
    "XR_ERROR_SESSION_NOT_STOPPING in xrEndSession",
    "Signal: 'spatial_discovery_recommended'",
)


def _root_libs(root: Path) -> str:
    sub = (
        "usr/lib/x86_64-linux-gnu",
        "lib/x86_64-linux-gnu",
        "usr/lib/x86_64-linux-gnu/pulseaudio",
    )
    return ":".join(str(root / s) for s in sub)


def _graphics_env(root: Path) -> dict[str, str]:
    return {
        "LIBGL_DRIVERS_PATH": str(root / "usr/lib/x86_64-linux-gnu/dri"),
        "__EGL_VENDOR_LIBRARY_DIRS": str(root / "usr/share/glvnd/egl_vendor.d"),
        "VK_ICD_FILENAMES": str(root / "usr/share/vulkan/icd.d/lvp_icd.json"),
    }


@pytest.fixture(scope="module")
def exported(godot: Godot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exported game, patched to run on this machine: the path of its binary."""
    require(shutil.which("patchelf"), "patchelf is not installed (apt-get install patchelf)")
    require(shutil.which("xvfb-run"), "xvfb-run is not installed (apt-get install xvfb xauth)")
    link = PROJECT_DIR / "export_presets.cfg"
    assert link.is_symlink() and link.resolve() == (REPO_ROOT / "export_presets.cfg").resolve()
    import_project(PROJECT_DIR)
    out = tmp_path_factory.mktemp("export")
    t0 = time.monotonic()
    proc = godot.run(
        ["--headless", "--path", PROJECT_DIR, "--export-release", PRESET, out / GAME],
        timeout=EXPORT_TIMEOUT_S,
    )
    log = f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, log
    assert (out / GAME).is_file() and (out / GAME).with_suffix(".pck").is_file(), log
    pck_bytes = (out / GAME).with_suffix(".pck").stat().st_size
    print(f"export: {time.monotonic() - t0:.1f} s, pck {pck_bytes} B")
    assert link.is_symlink(), "the export replaced the export_presets.cfg symlink"
    root = godot_root()
    subprocess.run(
        [
            "patchelf",
            "--set-interpreter",
            str(root / "lib64/ld-linux-x86-64.so.2"),
            str(out / GAME),
        ],
        check=True,
        timeout=60,
    )
    return out / GAME


def _run(
    game: Path, args: list[str], env: dict[str, str] | None = None, allowed: tuple[str, ...] = ()
) -> str:
    """Run the exported game under Xvfb; returns its output after checking it exited with
    0 and printed no error (except lines containing one of ``allowed``)."""
    root = godot_root()
    child_env = {"LD_LIBRARY_PATH": _root_libs(root), **_graphics_env(root)}
    cmd = ["xvfb-run", "-a", "-s", XVFB_SCREEN, "env", *(f"{k}={v}" for k, v in child_env.items())]
    cmd += [f"./{game.name}", "--audio-driver", "Dummy", *args]
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        cmd,
        cwd=game.parent,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-4000:]}"
    problems = [
        line
        for line in out.splitlines()
        if ("ERROR" in line or "SCRIPT ERROR" in line or "error while loading" in line)
        and not line.startswith(HOST_NOISE)
        and not any(a in line for a in allowed)
    ]
    assert not problems, "\n".join(problems) + "\n" + out[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_export_runs_mobile_vulkan_without_xr(exported: Path) -> None:
    out = _run(exported, ["--xr-mode", "off", "--quit-after", "40", "--", "--view-radius", "1"])
    assert "Forward Mobile" in out, out
    assert "start-up: res://desktop/spectator.tscn (VR unavailable" in out, out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_export_runs_spectator_compatibility(exported: Path) -> None:
    args = ["--rendering-method", "gl_compatibility", "--rendering-driver", "opengl3"]
    out = _run(exported, [*args, "--xr-mode", "off", "--quit-after", "40", "--", "--spectator"])
    assert "Compatibility" in out, out
    assert "start-up: res://desktop/spectator.tscn" in out, out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_export_starts_vr_scene_on_monado(exported: Path, tmp_path: Path) -> None:
    require(
        (godot_root() / "usr/bin/monado-service").is_file() and xr_runtime_json().is_file(),
        f"Monado or its runtime manifest missing in {godot_root()}",
    )
    with ExitStack() as stack:
        monado = stack.enter_context(monado_service(tmp_path))
        out = _run(
            exported,
            ["--quit-after", "40", "--", "--view-radius", "1"],
            env=monado.client_env(),
            allowed=OPENXR_EXIT_NOISE,
        )
    assert "OpenXR: Running on OpenXR runtime:  Monado" in out, out
    assert "start-up: res://xr/vr_main.tscn" in out, out
