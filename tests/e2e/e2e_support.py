"""Helpers of the networked end-to-end tests: starting the real server (through
:mod:`server_process`, shared with the server tests) and waiting for the scripted Godot
client's JSON report. A plain module, not fixtures: ``tests/e2e/conftest.py`` belongs to
the terrain tests.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server_process import OrchestratorProcess, ServerProcess, server_env

READY_TIMEOUT_S = 30.0


def start_server(data_dir: Path, world_seed: int, planet: int = 0, port: int = 0,
                 **settings: Any) -> ServerProcess:
    """A :class:`server_process.ServerProcess` for ``world_seed`` / ``planet`` on loopback
    (``port`` 0 = a free one); keywords become ``PLANET_<NAME>`` settings."""
    args = ["--world-seed", str(world_seed), "--planet", str(planet)]
    return ServerProcess(data_dir, server_env(**settings), args, port=port)


def start_orchestrator(data_dir: Path, world_seed: int, **settings: Any) -> OrchestratorProcess:
    """A :class:`server_process.OrchestratorProcess` (``planet-server serve``: the
    orchestrator and its map processes) for ``world_seed`` on loopback, any free ports
    (public, control and map control); keywords become ``PLANET_<NAME>`` settings."""
    env = server_env(**{"orch_orch_control_port": 0, "orch_map_control_port_base": 0,
                        **settings})
    return OrchestratorProcess(data_dir, env, ["--world-seed", str(world_seed)])


#: The driver writes its first report at start; a client that cannot even start (a script
#: that does not compile) is given up on after this long.
START_TIMEOUT_S = 90.0


async def wait_for_report(path: Path, predicate: Callable[[dict[str, Any]], bool],
                          proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """Poll the JSON report at ``path`` until ``predicate(report)`` holds, the process
    exits, ``timeout`` passes or no report appeared within :data:`START_TIMEOUT_S`
    (asyncio-friendly); returns the last report read."""
    start = time.monotonic()
    end = start + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < end:
        if path.exists():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                doc = {}
            if predicate(doc):
                return doc
        if proc.poll() is not None:
            break
        if not doc and time.monotonic() - start > START_TIMEOUT_S:
            break
        await asyncio.sleep(0.2)
    return doc
