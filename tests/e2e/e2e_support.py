"""Helpers of the networked end-to-end tests: a real ``planet-server`` subprocess.

:class:`ServerProcess` runs ``python -m server serve --port 0`` from the repository root on
loopback, reads the chosen port from its JSON ``ready`` log line and stops it with SIGINT
(SIGKILL after 10 s). A plain module, not fixtures: ``tests/e2e/conftest.py`` belongs to
the terrain tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from godot_support import REPO_ROOT

READY_TIMEOUT_S = 30.0


class ServerProcess:
    """A running ``planet-server serve`` and its log records (stderr JSON lines)."""

    def __init__(self, data_dir: Path, world_seed: int, planet: int = 0, port: int = 0,
                 **settings: Any) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("PLANET_FLUSH_INTERVAL_S", "0.2")
        for key, value in settings.items():
            env[f"PLANET_{key.upper()}"] = str(value)
        cmd = [sys.executable, "-m", "server", "serve", "--data", str(data_dir), "--host",
               "127.0.0.1", "--port", str(port), "--world-seed", str(world_seed), "--planet",
               str(planet)]
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.port = 0
        self._ready = threading.Event()
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            self.stop()
            raise RuntimeError("server not ready:\n" + "\n".join(self.raw[-30:]))

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.raw.append(line.rstrip())
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            self.lines.append(rec)
            if rec.get("event") == "ready":
                self.port = int(rec["port"])
                self._ready.set()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGINT, then SIGKILL after 10 s; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._thread.join(5)
        return self.proc.returncode


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
