"""Fixtures of the end-to-end tests (rendering under Xvfb)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from godot_support import REPO_ROOT, require


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where screenshots go: $SCREENSHOT_DIR, default build/screenshots/ (kept by CI)."""
    configured = os.environ.get("SCREENSHOT_DIR")
    path = Path(configured) if configured else REPO_ROOT / "build" / "screenshots"
    if not path.is_absolute():
        path = REPO_ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def xvfb() -> str:
    """The xvfb-run executable (skips locally, fails under CI=true, when it is missing)."""
    exe = shutil.which("xvfb-run")
    require(exe, "xvfb-run is not installed (apt-get install xvfb xauth)")
    assert exe is not None
    return exe
