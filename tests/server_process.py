"""A real ``planet-server serve`` subprocess for tests (server, e2e): one implementation.

:class:`ServerProcess` runs ``python -m server serve --single --host 127.0.0.1 --port P``
(one game server process; P = 0: the OS picks a free port) from the repository root, reads
the port from the JSON ``ready`` log line on stderr and keeps every log record.
:class:`OrchestratorProcess` runs ``serve`` without ``--single``: the orchestrator with its
map processes; its ``url`` is the HTTP bootstrap address. :func:`server_env` builds the
environment: ``PLANET_<NAME>`` settings and the repository first on ``PYTHONPATH``.
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

    #: Arguments that pick the process kind (``--single``: one game server).
    MODE_ARGS: tuple[str, ...] = ("--single",)

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
        self.ready_record: dict[str, Any] = {}
        cmd = [sys.executable, "-m", "server", "serve", *self.MODE_ARGS, "--data", str(data_dir),
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
            if rec.get("event") == "ready" and "port" in rec:
                self.port = int(rec["port"])
                self.ready_record = rec
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


class OrchestratorProcess(ServerProcess):
    """``planet-server serve``: the orchestrator and its map processes.

    ``url`` is ``http://127.0.0.1:<port>`` (``POST /orch/bootstrap``); ``control_url`` the
    loopback control app (tests pass ``PLANET_ORCH_INTERNAL_RPC_SECRET`` in ``env`` to call
    it). :meth:`map_pids` lists the live map processes (children running ``server map``).
    """

    MODE_ARGS = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{int(self.ready_record['control_port'])}"

    def map_pids(self) -> dict[str, int]:
        """map id -> pid of each live child process running ``-m server map``."""
        out: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid != self.proc.pid:
                    continue
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if b"map" in argv and b"--map-id" in argv:
                out[argv[argv.index(b"--map-id") + 1].decode()] = int(entry.name)
        return out
