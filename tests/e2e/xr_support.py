"""Processes of the VR end-to-end tests: Monado with its remote driver, the Godot client
in its VR scene under Xvfb, the game server. Every process runs in its own session and is
killed (SIGTERM, then SIGKILL to the whole group) when the test ends; Monado gets a free
port and private XDG directories (GODOT_CI.md section 4).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from godot_support import GODOT, PROJECT_DIR, REPO_ROOT, TOOLS_DIR, XVFB_SCREEN, xr_runtime_json

from e2e.monado_remote import wait_for_listening

MONADO = TOOLS_DIR / "monado-service"
Event = dict[str, Any]


def free_port() -> int:
    """A TCP port that was free a moment ago (bound to port 0 and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any], grace_s: float = 5.0) -> None:
    """SIGTERM the process group (xvfb-run cleans up its server), then SIGKILL it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace_s)
            break
        except subprocess.TimeoutExpired:
            continue
    with suppress(subprocess.TimeoutExpired):  # reap even if the group was already gone
        proc.wait(timeout=grace_s)


@contextmanager
def spawn(
    cmd: Sequence[str | os.PathLike[str]], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``cmd`` in a new session with stdout and stderr in ``log_path``; stop it on exit."""
    log: BinaryIO
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_process(proc)


@dataclass(frozen=True)
class Monado:
    """A running monado-service with the remote driver on ``port``."""

    proc: subprocess.Popen[bytes]
    port: int
    runtime_dir: Path
    config_home: Path
    log_path: Path

    def client_env(self) -> dict[str, str]:
        """What an OpenXR application needs to reach this service."""
        return {"XDG_RUNTIME_DIR": str(self.runtime_dir), "XR_RUNTIME_JSON": str(xr_runtime_json())}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def monado_service(workdir: Path, timeout_s: float = 60.0) -> Iterator[Monado]:
    """monado-service with the remote driver on a free port and private XDG directories."""
    runtime_dir = workdir / "xdg-runtime"
    runtime_dir.mkdir(mode=0o700)
    runtime_dir.chmod(0o700)
    config_home = workdir / "xdg-config"
    (config_home / "monado").mkdir(parents=True)
    port = free_port()
    config = {"active": "remote", "remote": {"version": 0, "port": port, "view_count": 2}}
    (config_home / "monado" / "config_v0.json").write_text(json.dumps(config))
    env = dict(os.environ)
    env.update(XDG_RUNTIME_DIR=str(runtime_dir), XDG_CONFIG_HOME=str(config_home))
    log_path = workdir / "monado.log"
    with spawn([MONADO], env, log_path) as proc:
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                wait_for_listening(log_path, port, 0.5)
                break
            except TimeoutError:
                continue
        if proc.poll() is not None:
            raise RuntimeError(f"monado-service exited ({proc.returncode}):\n{_tail(log_path)}")
        wait_for_listening(log_path, port, max(0.1, deadline - time.monotonic()))
        yield Monado(proc, port, runtime_dir, config_home, log_path)


def godot_vr_command(user_args: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The client on a virtual screen, Mobile renderer on Vulkan (lavapipe), OpenXR on."""
    return [
        "xvfb-run",
        "-a",
        "-s",
        XVFB_SCREEN,
        str(GODOT),
        "--path",
        str(PROJECT_DIR),
        "--rendering-driver",
        "vulkan",
        "--rendering-method",
        "mobile",
        "--audio-driver",
        "Dummy",
        "--xr-mode",
        "on",
        "--",
        *map(str, user_args),
    ]


@contextmanager
def godot_vr(
    workdir: Path, monado: Monado, user_args: Sequence[str | os.PathLike[str]] = ()
) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """The Godot client started through main.tscn with OpenXR on ``monado``; yields the
    process, its test-event log (``--xr-test-log``) and its stdout/stderr log."""
    events = workdir / "xr-events.jsonl"
    log_path = workdir / "godot.log"
    env = dict(os.environ)
    env.update(monado.client_env())
    cmd = godot_vr_command([f"--xr-test-log={events}", *user_args])
    with spawn(cmd, env, log_path) as proc:
        yield proc, events, log_path


def read_events(path: Path) -> list[Event]:
    """The JSON lines written so far (a half-written last line is ignored)."""
    if not path.is_file():
        return []
    out: list[Event] = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def wait_for_event(
    path: Path,
    predicate: Callable[[Event], bool],
    timeout_s: float,
    alive: Sequence[subprocess.Popen[Any]] = (),
    on_tick: Callable[[], None] | None = None,
    what: str = "event",
) -> Event:
    """The first event in ``path`` for which ``predicate`` holds; ``on_tick`` runs about
    ten times a second while waiting (e.g. to keep sending controller state). Raises
    TimeoutError, or RuntimeError when a process in ``alive`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        for e in read_events(path):
            if predicate(e):
                return e
        for p in alive:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args!r} exited with {p.returncode} waiting for {what}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {what} within {timeout_s} s")
        if on_tick is not None:
            on_tick()
        time.sleep(0.1)


class GameServer:
    """``python -m server serve`` on a free loopback port; JSON log lines on stderr."""

    def __init__(self, stack: ExitStack, data_dir: Path, log_path: Path, args: Sequence[str]):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.log_path = log_path
        cmd = [sys.executable, "-m", "server", "serve", "--single", "--data", str(data_dir)]
        cmd += ["--host", "127.0.0.1", "--port", "0", *args]
        self.proc = stack.enter_context(spawn(cmd, env, log_path))
        self.port = 0
        deadline = time.monotonic() + 30.0
        while not self.port:
            ready = self.events("ready")
            if ready:
                self.port = int(ready[0]["port"])
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server not ready:\n{_tail(log_path)}")
            else:
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def events(self, name: str) -> list[Event]:
        return [e for e in read_events(self.log_path) if e.get("event") == name]


def _tail(path: Path, n: int = 4000) -> str:
    return path.read_text(errors="replace")[-n:] if path.is_file() else ""


def tail(path: Path, n: int = 4000) -> str:
    """The last ``n`` characters of a log file (for assertion messages)."""
    return _tail(path, n)
