"""The project's static checks run with the suite: ruff, mypy (strict) and gdlint.

Configuration lives in pyproject.toml (ruff, mypy) and gdtoolkit's defaults (gdlint).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_ruff_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_clean(tmp_path: Path) -> None:
    r = _run(str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy"))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("folder", ["godot_project"])
def test_gdlint_clean(folder: str) -> None:
    r = _run(str(BIN / "gdlint"), folder)
    assert r.returncode == 0, r.stdout + r.stderr
