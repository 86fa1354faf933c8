"""Map-process supervision: heartbeats, hang detection, backoff, quarantine (fake clock
and spawner), and a real child process killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from server.orchestrator.supervisor import (
    MapState,
    MapSupervisor,
    MapUnavailable,
    SubprocessSpawner,
    SupervisorPolicy,
    UnavailableReason,
)

POLICY = SupervisorPolicy(heartbeat_timeout_ms=15_000, restart_window_ms=60_000,
                          restart_max_in_window=3, quarantine_ms=60_000,
                          backoff_initial_ms=250, backoff_max_ms=8_000)


class FakeHandle:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.killed = False

    async def kill(self) -> None:
        self.killed = True
        if self.returncode is None:
            self.returncode = -9


class FakeSpawner:
    def __init__(self) -> None:
        self.handles: list[FakeHandle] = []
        self.fail_next = False

    async def spawn(self, map_id: str, config: object) -> FakeHandle:
        if self.fail_next:
            self.fail_next = False
            raise OSError("no such binary")
        h = FakeHandle(1000 + len(self.handles))
        self.handles.append(h)
        return h


@pytest.fixture
def sup(clock):
    downs: list[tuple[str, str]] = []
    s = MapSupervisor(FakeSpawner(), POLICY, clock_ms=clock,
                      on_down=lambda m, r: downs.append((m, r)))
    s.downs = downs  # type: ignore[attr-defined]
    return s


async def start_healthy(sup, map_id="planet-0"):
    await sup.ensure(map_id, {})
    assert sup.maps[map_id].state is MapState.STARTING
    with pytest.raises(MapUnavailable) as ei:
        sup.check_available(map_id)
    assert ei.value.reason is UnavailableReason.STARTING
    sup.map_ready(map_id, "ws://127.0.0.1:9100")
    assert sup.is_available(map_id)


async def test_lazy_spawn_once_and_heartbeats(sup, clock):
    await start_healthy(sup)
    await sup.ensure("planet-0", {})
    assert len(sup.spawner.handles) == 1
    for _ in range(10):  # heartbeats every 5 s keep it healthy
        clock.advance(5_000)
        assert sup.heartbeat("planet-0", {"players": 1})
        await sup.tick()
    assert sup.is_available("planet-0") and sup.maps["planet-0"].stats == {"players": 1}
    assert not sup.heartbeat("planet-9")


async def test_silent_map_is_killed_after_timeout_and_restarted(sup, clock):
    await start_healthy(sup)
    clock.advance(14_999)
    await sup.tick()
    assert sup.is_available("planet-0")
    clock.advance(1)
    await sup.tick()
    first = sup.spawner.handles[0]
    assert first.killed and sup.maps["planet-0"].state is MapState.BACKOFF
    assert sup.downs == [("planet-0", "heartbeat timeout")]
    with pytest.raises(MapUnavailable) as ei:
        sup.check_available("planet-0")
    assert ei.value.reason is UnavailableReason.RESTARTING and ei.value.retry_after_ms == 250
    clock.advance(250)
    await sup.tick()
    assert len(sup.spawner.handles) == 2 and sup.maps["planet-0"].state is MapState.STARTING


async def test_backoff_doubles_then_quarantine_after_fourth_crash_in_window(sup, clock):
    await start_healthy(sup)
    delays = []
    for _ in range(3):
        sup.spawner.handles[-1].returncode = 1  # crash
        await sup.tick()
        e = sup.maps["planet-0"]
        assert e.state is MapState.BACKOFF
        delays.append(e.next_start_ms - clock.now)
        clock.advance(delays[-1])
        await sup.tick()  # restart
        sup.map_ready("planet-0")
    assert delays == [250, 500, 1000]
    sup.spawner.handles[-1].returncode = 1  # 4th crash within 60 s
    await sup.tick()
    e = sup.maps["planet-0"]
    assert e.state is MapState.QUARANTINED
    with pytest.raises(MapUnavailable) as ei:
        await sup.ensure("planet-0", {})  # joins/transfers fail fast
    assert ei.value.reason is UnavailableReason.QUARANTINED
    assert ei.value.retry_after_ms == 60_000
    assert ei.value.to_json()["reason"] == "QUARANTINED"
    spawned = len(sup.spawner.handles)
    clock.advance(59_999)
    await sup.tick()
    assert len(sup.spawner.handles) == spawned
    clock.advance(1)
    await sup.tick()
    assert len(sup.spawner.handles) == spawned + 1 and e.state is MapState.STARTING
    assert len(e.restarts) == 0


async def test_crashes_spread_over_the_window_do_not_quarantine(sup, clock):
    await start_healthy(sup)
    for _ in range(8):
        clock.advance(30_000)  # two restarts per window at most
        sup.heartbeat("planet-0")
        sup.spawner.handles[-1].returncode = 1
        await sup.tick()
        assert sup.maps["planet-0"].state is MapState.BACKOFF
        clock.advance(sup.maps["planet-0"].next_start_ms - clock.now)
        await sup.tick()
        sup.map_ready("planet-0")
    assert sup.is_available("planet-0")


async def test_spawn_failure_counts_as_crash_and_others_unaffected(sup, clock):
    await start_healthy(sup, "planet-1")
    sup.spawner.fail_next = True
    await sup.ensure("planet-0", {})
    assert sup.maps["planet-0"].state is MapState.BACKOFF
    assert sup.is_available("planet-1")


async def test_unknown_map():
    sup = MapSupervisor(FakeSpawner(), POLICY)
    with pytest.raises(MapUnavailable) as ei:
        sup.check_available("planet-7")
    assert ei.value.reason is UnavailableReason.UNKNOWN_MAP


CHILD = "import time\nwhile True: time.sleep(1)\n"


async def test_real_child_sigkilled_restarted_then_quarantined():
    """A real process: SIGKILL -> restart (3 times), the 4th crash in the window ->
    quarantine; the orchestrator side (this process) keeps running."""
    policy = SupervisorPolicy(heartbeat_timeout_ms=60_000, restart_window_ms=60_000,
                              restart_max_in_window=3, quarantine_ms=400,
                              backoff_initial_ms=10, backoff_max_ms=40)
    downs: list[str] = []
    sup = MapSupervisor(SubprocessSpawner(lambda m, c: [sys.executable, "-c", CHILD]),
                        policy, on_down=lambda m, r: downs.append(r))
    other = MapSupervisor(SubprocessSpawner(lambda m, c: [sys.executable, "-c", CHILD]),
                          policy)
    await other.ensure("planet-1", {})
    await sup.ensure("planet-0", {})
    pids = []
    try:
        for n in range(4):
            e = sup.maps["planet-0"]
            assert e.handle is not None
            pids.append(e.handle.pid)
            os.kill(e.handle.pid, signal.SIGKILL)
            for _ in range(200):
                await asyncio.sleep(0.01)
                await sup.tick()
                if n < 3 and e.state is MapState.STARTING and e.handle is not None \
                        and e.handle.pid != pids[-1]:
                    break
                if n == 3 and e.state is MapState.QUARANTINED:
                    break
            else:
                pytest.fail(f"no restart/quarantine after kill {n + 1}: {e.state}")
        assert len(set(pids)) == 4 and len(downs) == 4
        assert all(r == "exited -9" for r in downs)
        with pytest.raises(MapUnavailable) as ei:
            sup.check_available("planet-0")
        assert ei.value.reason is UnavailableReason.QUARANTINED
        other_entry = other.maps["planet-1"]
        assert other_entry.handle is not None and other_entry.handle.returncode is None
        await asyncio.sleep(0.45)
        await sup.tick()
        assert sup.maps["planet-0"].state is MapState.STARTING  # quarantine over
    finally:
        await sup.stop_all()
        await other.stop_all()
    assert all(e.handle is None for e in sup.maps.values())
