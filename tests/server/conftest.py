"""Fixtures of the server tests: a real ``planet-server`` subprocess on a free loopback port.

The server runs ``python -m server serve --port 0`` (the OS picks a free port) from the
repository root; the fixture reads the port from its ``ready`` log line. Every server is
stopped (SIGINT, then SIGKILL after 10 s) when the test ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_process import ServerProcess, server_env

ROOT = Path(__file__).resolve().parents[2]
# An editable install made before the packages had __init__.py files resolves them as
# namespace packages; putting the repository first keeps imports pointing at the sources.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Factory ``start_server(data_dir=None, **env) -> ServerProcess``; extra keyword
    arguments become ``PLANET_<NAME>`` environment variables."""
    procs: list[ServerProcess] = []

    def start(data_dir: Path | None = None, args: list[str] | None = None,
              **settings: Any) -> ServerProcess:
        env = server_env(**settings)
        p = ServerProcess(data_dir or tmp_path / "data", env, args or ["--world-seed", "1"])
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()
