"""A real ``planet-server serve`` subprocess for tests (server, e2e): one implementation.

:class:`ServerProcess` runs ``python -m server serve --host 127.0.0.1 --port P`` (P = 0: the
OS picks a free port) from the repository root, reads the port from the JSON ``ready`` log
line on stderr and keeps every log record. :func:`server_env` builds its environment:
``PLANET_<NAME>`` settings and the repository first on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 30.0


def server_env(**settings: Any) -> dict[str, str]:
    """``os.environ`` + ``PLANET_<NAME>=value`` per keyword; the write-behind debounce is
    0.2 s unless given (tests restart servers and look at the database)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PLANET_FLUSH_INTERVAL_S", "0.2")
    for key, value in settings.items():
        env[f"PLANET_{key.upper()}"] = str(value)
    return env


class ServerProcess:
    """A running ``planet-server serve`` subprocess and its JSON log records.

    Raises:
        RuntimeError: the server did not log ``ready`` within :data:`READY_TIMEOUT_S`.
    """

    def __init__(self, data_dir: Path, env: dict[str, str], args: Sequence[str],
                 port: int = 0) -> None:
        self.data_dir = data_dir
        self.env = env
        self.args = list(args)
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.port = 0
        self.returncode: int | None = None
        self._ready = threading.Event()
        cmd = [sys.executable, "-m", "server", "serve", "--data", str(data_dir),
               "--host", "127.0.0.1", "--port", str(port), *self.args]
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            self.kill()
            raise RuntimeError(
                f"server not ready within {READY_TIMEOUT_S} s:\n" + "\n".join(self.raw[-30:]))
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
        """Send ``sig`` (SIGKILL after ``timeout`` s) and wait; returns the exit code."""
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
