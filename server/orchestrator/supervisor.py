"""Supervision of map processes: spawn lazily, watch heartbeats, restart with backoff,
quarantine crash loops (seed 004, "Failure Handling").

The policy (:class:`MapSupervisor`) is separate from process creation (a
:class:`Spawner`), and time comes from an injected monotonic clock in ms, so every rule is
unit-testable with a fake spawner and a fake clock. :class:`SubprocessSpawner` starts real
child processes with asyncio.

Per map, the states are::

    STARTING --map_ready/heartbeat--> HEALTHY --no heartbeat for heartbeat_timeout_ms-->
    (killed) --> crash handling;   any state with a live process --exit--> crash handling

    crash handling: restarts in the last restart_window_ms < restart_max_in_window
        -> BACKOFF (delay = initial * 2**n, capped) -> STARTING
      else
        -> QUARANTINED for quarantine_ms -> STARTING (restart history cleared)

Joins and transfers to a map that is BACKOFF or QUARANTINED fail fast
(:class:`MapUnavailable` with a reason and ``retry_after_ms``). A crash never propagates:
spawn errors count as crashes, and ``on_down(map_id, reason)`` tells the orchestrator
(which revokes the map's leases) after the process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger("server.orchestrator.supervisor")


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class MapState(StrEnum):
    STARTING = "starting"
    HEALTHY = "healthy"
    BACKOFF = "backoff"
    QUARANTINED = "quarantined"
    STOPPED = "stopped"


class UnavailableReason(StrEnum):
    UNKNOWN_MAP = "UNKNOWN_MAP"
    STARTING = "STARTING"
    RESTARTING = "RESTARTING"
    QUARANTINED = "QUARANTINED"
    STOPPED = "STOPPED"


class MapUnavailable(Exception):  # noqa: N818 - a refusal, not a bug
    """Fail-fast refusal of a join/transfer to a map that cannot take it now."""

    def __init__(self, map_id: str, reason: UnavailableReason, retry_after_ms: int = 0) -> None:
        super().__init__(f"{map_id}: {reason.value} (retry after {retry_after_ms} ms)")
        self.map_id = map_id
        self.reason = reason
        self.retry_after_ms = retry_after_ms

    def to_json(self) -> dict[str, Any]:
        return {"error": "map_unavailable", "reason": self.reason.value,
                "mapId": self.map_id, "retryAfterMs": self.retry_after_ms}


class MapHandle(Protocol):
    """A running (or finished) map process."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def kill(self) -> None: ...


class Spawner(Protocol):
    async def spawn(self, map_id: str, config: Any) -> MapHandle: ...


@dataclass(frozen=True, slots=True)
class SupervisorPolicy:
    """The tunables (ms); built from OrchestratorSettings by :meth:`from_settings`."""

    heartbeat_timeout_ms: int = 15_000
    restart_window_ms: int = 60_000
    restart_max_in_window: int = 3
    quarantine_ms: int = 60_000
    backoff_initial_ms: int = 250
    backoff_max_ms: int = 8_000
    #: STARTING without map_ready/heartbeat for this long counts as a hang.
    start_timeout_ms: int = 30_000

    @classmethod
    def from_settings(cls, s: Any) -> SupervisorPolicy:
        return cls(heartbeat_timeout_ms=s.heartbeat_timeout_ms,
                   restart_window_ms=s.map_restart_window_ms,
                   restart_max_in_window=s.map_restart_max_in_window,
                   quarantine_ms=s.map_quarantine_ms,
                   backoff_initial_ms=s.restart_backoff_initial_ms,
                   backoff_max_ms=s.restart_backoff_max_ms)


@dataclass(slots=True)
class MapEntry:
    map_id: str
    config: Any
    state: MapState = MapState.STOPPED
    handle: MapHandle | None = None
    endpoint: str | None = None
    #: Base URL of the map process's ``/control/*`` app (from map-ready).
    control_url: str | None = None
    started_ms: int = 0
    last_heartbeat_ms: int = 0
    restarts: deque[int] = field(default_factory=deque)
    crashes: int = 0
    next_start_ms: int = 0
    quarantined_until_ms: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


class MapSupervisor:
    """Map-process registry and restart policy. Use from one event loop.

    Args:
        spawner: creates processes.
        policy: the tunables.
        clock_ms: monotonic ms.
        on_down: called with (map_id, reason) after a process is gone (crash, hang).
    """

    def __init__(self, spawner: Spawner, policy: SupervisorPolicy | None = None, *,
                 clock_ms: Callable[[], int] = monotonic_ms,
                 on_down: Callable[[str, str], None] | None = None) -> None:
        self.spawner = spawner
        self.policy = policy or SupervisorPolicy()
        self.clock_ms = clock_ms
        self.on_down = on_down
        self.maps: dict[str, MapEntry] = {}
        #: Set at shutdown: exits are no longer crashes and nothing is restarted.
        self.draining = False

    # ---- queries --------------------------------------------------------------------
    def is_available(self, map_id: str) -> bool:
        e = self.maps.get(map_id)
        return e is not None and e.state is MapState.HEALTHY

    def check_available(self, map_id: str) -> MapEntry:
        """The entry of a map that takes joins/transfers now.

        Raises:
            MapUnavailable: with the reason and how long to wait.
        """
        e = self.maps.get(map_id)
        now = self.clock_ms()
        if e is None:
            raise MapUnavailable(map_id, UnavailableReason.UNKNOWN_MAP)
        if e.state is MapState.HEALTHY:
            return e
        if e.state is MapState.QUARANTINED:
            raise MapUnavailable(map_id, UnavailableReason.QUARANTINED,
                                 max(0, e.quarantined_until_ms - now))
        if e.state is MapState.BACKOFF:
            raise MapUnavailable(map_id, UnavailableReason.RESTARTING,
                                 max(0, e.next_start_ms - now))
        if e.state is MapState.STARTING:
            raise MapUnavailable(map_id, UnavailableReason.STARTING)
        raise MapUnavailable(map_id, UnavailableReason.STOPPED)

    # ---- commands -------------------------------------------------------------------
    async def ensure(self, map_id: str, config: Any) -> MapEntry:
        """Register ``map_id`` and start it if it is not running (lazy spawn).

        Raises:
            MapUnavailable: QUARANTINED or RESTARTING (fail fast, no spawn).
        """
        e = self.maps.get(map_id)
        if e is None:
            e = self.maps[map_id] = MapEntry(map_id, config)
        if e.state is MapState.STOPPED:
            await self._start(e)
        elif e.state in (MapState.QUARANTINED, MapState.BACKOFF):
            self.check_available(map_id)
        return e

    def map_ready(self, map_id: str, endpoint: str | None = None,
                  control_url: str | None = None) -> None:
        """The map process says it is up (``POST /orch/map-ready``)."""
        e = self.maps.get(map_id)
        if e is None or e.state not in (MapState.STARTING, MapState.HEALTHY):
            return
        e.endpoint = endpoint or e.endpoint
        e.control_url = control_url or e.control_url
        e.state = MapState.HEALTHY
        e.last_heartbeat_ms = self.clock_ms()

    def heartbeat(self, map_id: str, stats: dict[str, Any] | None = None) -> bool:
        """A heartbeat (``POST /orch/map-heartbeat``); False for an unknown/dead map."""
        e = self.maps.get(map_id)
        if e is None or e.state not in (MapState.STARTING, MapState.HEALTHY):
            return False
        e.last_heartbeat_ms = self.clock_ms()
        e.state = MapState.HEALTHY
        if stats:
            e.stats = dict(stats)
        return True

    async def stop(self, map_id: str) -> None:
        """Stop a map on purpose (no restart)."""
        e = self.maps.get(map_id)
        if e is None:
            return
        handle, e.handle = e.handle, None
        e.state = MapState.STOPPED
        if handle is not None:
            await handle.kill()
            self._notify_down(map_id, "stopped")

    async def stop_all(self) -> None:
        for map_id in list(self.maps):
            await self.stop(map_id)

    async def tick(self) -> None:
        """One supervision pass: reap exits, detect hangs, restart, end quarantines."""
        if self.draining:
            return
        now = self.clock_ms()
        for e in list(self.maps.values()):
            if e.state in (MapState.STARTING, MapState.HEALTHY):
                assert e.handle is not None
                if e.handle.returncode is not None:
                    await self._crashed(e, f"exited {e.handle.returncode}")
                elif e.state is MapState.HEALTHY and \
                        now - e.last_heartbeat_ms >= self.policy.heartbeat_timeout_ms:
                    await e.handle.kill()
                    await self._crashed(e, "heartbeat timeout")
                elif e.state is MapState.STARTING and \
                        now - e.started_ms >= self.policy.start_timeout_ms:
                    await e.handle.kill()
                    await self._crashed(e, "start timeout")
            elif e.state is MapState.BACKOFF and now >= e.next_start_ms:
                e.restarts.append(now)
                await self._start(e)
            elif e.state is MapState.QUARANTINED and now >= e.quarantined_until_ms:
                e.restarts.clear()
                log.info("map_quarantine_over", extra={"fields": {"map_id": e.map_id}})
                await self._start(e)

    async def run(self, stop: asyncio.Event, poll_ms: int = 200) -> None:
        """Call :meth:`tick` every ``poll_ms`` until ``stop`` is set, then stop all maps."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:  # a supervision bug must not end supervision
                    log.exception("supervisor_tick_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_ms / 1000)
        finally:
            await self.stop_all()

    # ---- internals ------------------------------------------------------------------
    async def _start(self, e: MapEntry) -> None:
        now = self.clock_ms()
        e.started_ms = now
        e.endpoint = None
        e.control_url = None
        try:
            e.handle = await self.spawner.spawn(e.map_id, e.config)
        except Exception as exc:  # spawn failure = crash
            log.warning("map_spawn_failed", extra={"fields": {"map_id": e.map_id,
                                                              "error": repr(exc)}})
            e.handle = None
            e.state = MapState.STARTING
            await self._crashed(e, f"spawn failed: {exc!r}")
            return
        e.state = MapState.STARTING
        log.info("map_spawned", extra={"fields": {"map_id": e.map_id, "pid": e.handle.pid}})

    def _notify_down(self, map_id: str, reason: str) -> None:
        if self.on_down is not None:
            try:
                self.on_down(map_id, reason)
            except Exception:
                log.exception("on_down_failed")

    async def _crashed(self, e: MapEntry, reason: str) -> None:
        now = self.clock_ms()
        e.crashes += 1
        e.handle = None
        e.endpoint = None
        e.control_url = None
        window_start = now - self.policy.restart_window_ms
        while e.restarts and e.restarts[0] <= window_start:
            e.restarts.popleft()
        if len(e.restarts) >= self.policy.restart_max_in_window:
            e.state = MapState.QUARANTINED
            e.quarantined_until_ms = now + self.policy.quarantine_ms
        else:
            e.state = MapState.BACKOFF
            delay = self.policy.backoff_initial_ms * (2 ** len(e.restarts))
            e.next_start_ms = now + min(delay, self.policy.backoff_max_ms)
        log.warning("map_down", extra={"fields": {"map_id": e.map_id, "reason": reason,
                                                  "state": e.state.value,
                                                  "restarts_in_window": len(e.restarts)}})
        self._notify_down(e.map_id, reason)


# --- real processes ----------------------------------------------------------------------


class SubprocessHandle:
    """An asyncio child process; ``returncode`` is set once it has been reaped."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._waiter = asyncio.ensure_future(proc.wait())

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    async def kill(self) -> None:
        """SIGKILL (if still running) and reap."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
        await self._waiter


class SubprocessSpawner:
    """Starts ``argv(map_id, config)`` as a child process with ``env`` added.

    The child inherits stderr (its JSON log lines join the orchestrator's) unless
    ``stderr`` is given; stdin is closed. The orchestrator's control port and secret are
    passed through ``env`` (never on the command line, where ``ps`` shows them).
    """

    def __init__(self, argv: Callable[[str, Any], Sequence[str]], *,
                 env: dict[str, str] | None = None, stderr: int | None = None,
                 unset: Sequence[str] = ()) -> None:
        self.argv = argv
        self.env = env if env is not None else {}
        self.stderr = stderr
        #: Variables of our environment the child must not inherit (database URLs).
        self.unset = tuple(unset)

    async def spawn(self, map_id: str, config: Any) -> SubprocessHandle:
        args = list(self.argv(map_id, config))
        env = {**os.environ, **self.env}
        for name in self.unset:
            env.pop(name, None)
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=self.stderr, env=env,
        )
        return SubprocessHandle(proc)
