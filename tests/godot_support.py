"""Helpers for tests that run the project's private Godot through tools/godot.

The root is installed by tools/install_godot.sh (see shared/GODOT_CI.md). Tests get it
through the session fixture ``godot`` of tests/conftest.py, which skips locally, and
fails under CI=true, when Godot cannot be had.

Headless runs should pass ``HEADLESS`` (``--headless --xr-mode off``): the project has
OpenXR enabled, and without ``--xr-mode off`` every start tries to find an OpenXR runtime,
logs errors, and ``--import`` takes about 4 s longer and writes a default
``openxr_action_map.tres`` into the project.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO_ROOT / "tools"
GODOT = TOOLS_DIR / "godot"
INSTALLER = TOOLS_DIR / "install_godot.sh"
PROJECT_DIR = REPO_ROOT / "godot_project"
RUNNER = "res://tests/runner.gd"
MARKER_REL = Path("planetary/godot-version")
HEADLESS: tuple[str, ...] = ("--headless", "--xr-mode", "off")
XVFB_SCREEN = "-screen 0 1280x720x24"
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)

INSTALL_TIMEOUT_S = 1800
IMPORT_TIMEOUT_S = 300


class GodotUnavailableError(RuntimeError):
    """The private Godot root is missing and could not be installed."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require(condition: object, reason: str) -> None:
    """Skip the current test unless ``condition`` holds; under CI=true fail instead."""
    if condition:
        return
    _unavailable(reason)


def _unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"CI=true forbids skipping: {reason}", pytrace=False)
    pytest.skip(reason)


def godot_root() -> Path:
    """Where tools/install_godot.sh puts the root (PLANETARY_GODOT_ROOT overrides)."""
    configured = os.environ.get("PLANETARY_GODOT_ROOT")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "planetary-survival" / "godot-root"


def xr_runtime_json() -> Path:
    """The Monado runtime manifest with an absolute library path (for XR_RUNTIME_JSON)."""
    return godot_root() / "planetary" / "openxr_monado.json"


def godot_installed() -> bool:
    return (godot_root() / MARKER_REL).is_file()


_ensure_lock = threading.Lock()
_ensure_outcome: tuple[str | None, str] | None = None  # (version, error)


def ensure_godot() -> str:
    """Return the Godot version, running tools/install_godot.sh first if the root is missing.

    The install is tried at most once per session; a failure is remembered and raised
    again as GodotUnavailableError. Set PLANETARY_NO_GODOT_INSTALL=1 to never install.
    """
    global _ensure_outcome
    with _ensure_lock:
        if _ensure_outcome is None:
            _ensure_outcome = _ensure_godot_uncached()
        version, error = _ensure_outcome
    if version is None:
        raise GodotUnavailableError(error)
    return version


def _godot_version() -> str | None:
    if not godot_installed():
        return None
    try:
        proc = run_godot(["--headless", "--version"], timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None
    return lines[-1].strip()


def _ensure_godot_uncached() -> tuple[str | None, str]:
    version = _godot_version()
    if version:
        return version, ""
    if os.environ.get("PLANETARY_NO_GODOT_INSTALL") == "1":
        return None, f"Godot root missing at {godot_root()} and PLANETARY_NO_GODOT_INSTALL=1"
    try:
        proc = subprocess.run(
            [str(INSTALLER)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"tools/install_godot.sh could not run: {exc}"
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        return None, f"tools/install_godot.sh failed (exit {proc.returncode}):\n{tail}"
    version = _godot_version()
    if not version:
        return None, "tools/install_godot.sh succeeded but tools/godot --version does not work"
    return version, ""


def _merged_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    merged = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def run_godot(
    args: Sequence[str | os.PathLike[str]],
    timeout: float,
    env: Mapping[str, str | None] | None = None,
    *,
    xvfb: bool = False,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run tools/godot with ``args``; capture stdout/stderr as text; never hang.

    ``env`` adds to (or, with None values, removes from) the current environment.
    ``xvfb=True`` runs it on a virtual screen (``xvfb-run -a``) for rendering. On timeout
    the whole process group is killed and subprocess.TimeoutExpired is raised with the
    output so far.
    """
    command = [str(GODOT), *map(str, args)]
    if xvfb:
        command = ["xvfb-run", "-a", "-s", XVFB_SCREEN, *command]
    with subprocess.Popen(
        command,
        cwd=cwd or REPO_ROOT,
        env=_merged_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            raise subprocess.TimeoutExpired(command, timeout, stdout, stderr) from None
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the process group (lets xvfb-run clean up), then SIGKILL it."""
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


_imported: set[Path] = set()
_import_lock = threading.Lock()


def import_project(project: Path = PROJECT_DIR, *, force: bool = False) -> None:
    """Run the editor's ``--import`` once per session and project.

    It builds ``.godot/global_script_class_cache.cfg``, without which scripts cannot
    name ``class_name`` classes (``extends PSTestCase``), and imports assets. It also
    writes ``*.uid`` files next to new scripts: those belong in git.
    """
    project = project.resolve()
    with _import_lock:
        if project in _imported and not force:
            return
        proc = run_godot([*HEADLESS, "--path", project, "--import"], timeout=IMPORT_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(
                f"godot --import failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        _imported.add(project)


def run_gdscript_tests(
    *runner_args: str,
    timeout: float = 600,
    project: Path = PROJECT_DIR,
    env: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Import the project (once) and run res://tests/runner.gd headless with runner_args."""
    import_project(project)
    return run_godot(
        [*HEADLESS, "--path", project, "-s", RUNNER, "--", *runner_args],
        timeout=timeout,
        env=env,
    )


def parse_summary(stdout: str) -> tuple[int, int] | None:
    """(passed, failed) from the runner's closing line, or None if there is none."""
    matches = SUMMARY_RE.findall(stdout)
    if not matches:
        return None
    passed, failed = matches[-1]
    return int(passed), int(failed)


@dataclass(frozen=True)
class Godot:
    """What the ``godot`` fixture hands to tests."""

    root: Path
    version: str
    project: Path = PROJECT_DIR

    def run(
        self,
        args: Sequence[str | os.PathLike[str]],
        timeout: float,
        env: Mapping[str, str | None] | None = None,
        *,
        xvfb: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        return run_godot(args, timeout, env, xvfb=xvfb)

    def run_tests(
        self, *runner_args: str, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return run_gdscript_tests(*runner_args, timeout=timeout, project=self.project)
