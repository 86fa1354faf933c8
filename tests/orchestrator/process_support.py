"""Real orchestrator processes for the acceptance tests (tests/orchestrator/test_processes.py)
and the transfer benchmark: start ``planet-server serve`` with fast test tunables, bots that
join through it, and helpers to find and kill map processes.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from server_process import OrchestratorProcess, server_env

from server.client.client import GameClient, connect_via_orchestrator
from server.protocol import EditMode, EditResult, JoinAccepted

SECRET = "test-internal-secret-0123456789abcdef"

#: Test tunables: fast heartbeats and restarts, any free control ports.
FAST: dict[str, Any] = {
    "orch_internal_rpc_secret": SECRET,
    "orch_orch_control_port": 0,
    "orch_map_control_port_base": 0,
    "orch_map_heartbeat_ms": 300,
    "orch_heartbeat_timeout_ms": 3000,
    "orch_restart_backoff_initial_ms": 100,
    "orch_supervisor_poll_ms": 50,
    "orch_map_snapshot_push_ms": 300,
}


@contextmanager
def orchestrator(data_dir: Path, **settings: Any) -> Iterator[OrchestratorProcess]:
    """An orchestrator on ``data_dir`` (stopped with SIGINT, or killed, at the end)."""
    proc = OrchestratorProcess(data_dir, server_env(**{**FAST, **settings}), [])
    try:
        yield proc
    finally:
        if proc.alive():
            proc.stop(signal.SIGINT, timeout=20)
        wait_gone(list(proc.map_pids().values()), 10.0)


def wait_gone(pids: list[int], timeout_s: float) -> bool:
    """Wait until none of ``pids`` exists (zombies count as gone)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if _running(p)]
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_map_pid(orch: OrchestratorProcess, map_id: str, timeout_s: float = 30.0,
                 not_pid: int | None = None) -> int:
    """The pid of ``map_id``'s process once it runs (and is not ``not_pid``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = orch.map_pids().get(map_id)
        if pid is not None and pid != not_pid and _running(pid):
            return pid
        time.sleep(0.05)
    raise AssertionError(f"{map_id} did not (re)start within {timeout_s} s")


async def health(orch: OrchestratorProcess) -> dict[str, Any]:
    """``GET /health`` of the orchestrator's control app."""
    async with httpx.AsyncClient(base_url=orch.control_url,
                                 headers={"X-Internal-Secret": SECRET}, timeout=5) as c:
        r = await c.get("/health")
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out


async def wait_map_state(orch: OrchestratorProcess, map_id: str, state: str,
                         timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = (await health(orch))["maps"].get(map_id)
        if last == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{map_id} is {last!r}, not {state!r}, after {timeout_s} s")


async def join(orch: OrchestratorProcess, key: str | None, name: str = "bot"
               ) -> tuple[GameClient, JoinAccepted]:
    return await connect_via_orchestrator(orch.url, key, name=name)


def below(position: tuple[float, float, float], metres: float) -> tuple[float, float, float]:
    """``metres`` toward the planet centre from ``position``."""
    r = math.sqrt(sum(v * v for v in position))
    k = (r - metres) / r
    return (position[0] * k, position[1] * k, position[2] * k)


async def dig(client: GameClient, joined: JoinAccepted, depth_m: float = 1.0,
              radius_m: float = 1.2) -> EditResult:
    """Excavate below the spawn point; the accepted EDIT_RESULT."""
    result = await client.edit(EditMode.EXCAVATE, below(joined.position, depth_m), radius_m)
    assert result.accepted, f"edit rejected: reason {result.reason}"
    return result


def open_files(pid: int) -> list[str]:
    """Paths of the files a process holds open (``/proc/<pid>/fd``)."""
    out = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            out.append(os.readlink(fd_dir / fd))
        except OSError:
            continue
    return out
