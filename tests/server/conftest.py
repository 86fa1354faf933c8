"""Fixtures of the server tests: a real ``planet-server`` subprocess on a free loopback port.

The server runs ``python -m server serve --port 0`` (the OS picks a free port) from the
repository root; the fixture reads the port from its ``ready`` log line. Every server is
stopped (SIGINT, then SIGKILL after 10 s) when the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# An editable install made before the packages had __init__.py files resolves them as
# namespace packages; putting the repository first keeps imports pointing at the sources.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class ServerProcess:
    """A running ``planet-server serve`` subprocess and its JSON log lines."""

    def __init__(self, data_dir: Path, env: dict[str, str], args: list[str]) -> None:
        self.data_dir = data_dir
        self.env = env
        self.args = args
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.port = 0
        self.returncode: int | None = None
        self._ready = threading.Event()
        cmd = [sys.executable, "-m", "server", "serve", "--data", str(data_dir), "--port", "0",
               "--host", "127.0.0.1", *args]
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            self.kill()
            raise RuntimeError("server not ready within 20 s:\n" + "\n".join(self.raw[-30:]))
        self.ready_s = time.perf_counter() - self.t_start

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
        """``ws://127.0.0.1:<port>``."""
        return f"ws://127.0.0.1:{self.port}"

    def events(self, name: str) -> list[dict[str, Any]]:
        """Log records whose ``event`` is ``name``."""
        return [r for r in list(self.lines) if r.get("event") == name]

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        """Send ``sig`` and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._thread.join(5)
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self) -> int:
        """SIGKILL (no flush, no goodbye) and wait."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._thread.join(5)
        self.returncode = self.proc.returncode
        return self.returncode


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Factory ``start_server(data_dir=None, **env) -> ServerProcess``; extra keyword
    arguments become ``PLANET_<NAME>`` environment variables."""
    procs: list[ServerProcess] = []

    def start(data_dir: Path | None = None, args: list[str] | None = None,
              **settings: Any) -> ServerProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("PLANET_FLUSH_INTERVAL_S", "0.2")
        for k, v in settings.items():
            env[f"PLANET_{k.upper()}"] = str(v)
        p = ServerProcess(data_dir or tmp_path / "data", env, args or ["--world-seed", "1"])
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()
