"""VR end to end: the real server, Monado with its remote driver, and the Godot client in
its VR scene under Xvfb (Mobile renderer on lavapipe).

The test moves the right controller through Monado's remote-driver socket
(:mod:`monado_remote`) so that it points at the ground, and pulls the trigger. The client
writes what its terrain tool does to an event log (``--xr-test-log``, see
``godot_project/xr/xr_test_log.gd``); a Python observer (``server.client.GameClient``)
joins the same server and watches the chunk deltas.

* ``test_vr_tool_offline``: Monado + the VR scene without a server; the controller is
  tracked, the tool aims at terrain, the trigger applies, the thumbstick changes the
  radius and the A button cycles the mode.
* ``test_vr_edits_reach_server``: with the server; an excavate edit is applied by the
  server for this player and the observer receives its delta; the thumbstick changes the
  radius of the next edit; after switching to elevate the canister soil goes down by
  exactly the soil the edit added (the observer's voxels: ``docs/terrain.md`` soil units).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from godot_support import PROJECT_DIR, Godot, godot_root, import_project, require, xr_runtime_json

from e2e.monado_remote import MonadoRemote, Pose, RemoteState, pitch
from e2e.xr_support import (
    Event,
    GameServer,
    godot_vr,
    monado_service,
    read_events,
    tail,
)

WORLD_SEED = 42
PLANET = 0
VIEW_RADIUS = 1
# Right controller 1.2 m up, 0.3 m ahead, pointing 69 degrees below the horizon.
AIM = RemoteState().with_right(pose=Pose(pitch(-1.2), (0.2, 1.2, -0.3)))
START_TIMEOUT_S = 180.0
STEP_TIMEOUT_S = 60.0


class VrDriver:
    """The remote driver's connection plus the client's event log, with waits that keep
    the controller state current while they poll."""

    def __init__(self, remote: MonadoRemote, events: Path, procs: list[Any]) -> None:
        self.remote = remote
        self.events = events
        self.procs = procs
        self.state = AIM
        self.cursor = 0

    def send(self, state: RemoteState | None = None) -> None:
        if state is not None:
            self.state = state
        self.remote.send(self.state)

    async def wait(self, what: str, pred: Callable[[Event], bool], timeout_s: float) -> Event:
        """The first event after the cursor matching ``pred``; moves the cursor past it."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = read_events(self.events)
            for i in range(self.cursor, len(rows)):
                if pred(rows[i]):
                    self.cursor = i + 1
                    return rows[i]
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(f"{p.args[0]} exited ({p.returncode}) waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s} s; last events: {rows[-5:]}")
            self.send()
            await asyncio.sleep(0.1)

    async def hold(self, state: RemoteState, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.send(state)
            await asyncio.sleep(0.05)

    async def pull_trigger(self) -> Event:
        """Pull and release the right trigger; returns the tool's "apply" event with the
        kind of haptic pulse the controller played for it ("haptic")."""
        await self.hold(self.state.with_right(trigger_value=1.0, trigger_click=True), 0.4)
        await self.hold(self.state.with_right(trigger_value=0.0, trigger_click=False), 0.3)
        haptic = await self.wait("haptic", lambda e: e["event"] == "haptic", STEP_TIMEOUT_S)
        apply = await self.wait("apply", lambda e: e["event"] == "apply", STEP_TIMEOUT_S)
        return {**apply, "haptic": haptic["kind"]}

    async def stick(self, y: float, seconds: float) -> float:
        """Push the right thumbstick to ``y`` for ``seconds``, release it; returns the tool's
        radius afterwards (from the next controller line of the log)."""
        await self.hold(self.state.with_right(thumbstick=(0.0, y)), seconds)
        await self.hold(self.state.with_right(thumbstick=(0.0, 0.0)), 0.5)
        await self.wait("radius change", lambda e: e["event"] == "tool", STEP_TIMEOUT_S)
        self.cursor = len(read_events(self.events))  # only lines written after the release
        row = await self.wait(
            "controller line", lambda e: e["event"] == "controller", STEP_TIMEOUT_S
        )
        return float(row["radius"])

    async def press_a(self) -> Event:
        await self.hold(self.state.with_right(a_click=True), 0.3)
        await self.hold(self.state.with_right(a_click=False), 0.2)
        return await self.wait("mode change", lambda e: e["event"] == "tool", STEP_TIMEOUT_S)


@pytest.fixture
def vr_ready(godot: Godot, xvfb: str) -> Godot:
    """Monado and the runtime manifest are installed; the project is imported."""
    require(
        (godot_root() / "usr/bin/monado-service").is_file() and xr_runtime_json().is_file(),
        f"Monado or its runtime manifest missing in {godot_root()} (tools/install_godot.sh)",
    )
    import_project(PROJECT_DIR)
    return godot


async def _start_vr(driver: VrDriver) -> None:
    ready = await driver.wait("ready", lambda e: e["event"] == "ready", START_TIMEOUT_S)
    assert ready["xr"] and ready["use_xr"], ready


def _describe(workdir: Path) -> str:
    parts = [f"--- {name}\n{tail(workdir / name, 3000)}" for name in ("godot.log", "monado.log")]
    parts.append(f"--- events\n{tail(workdir / 'xr-events.jsonl', 4000)}")
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_vr_tool_offline(vr_ready: Godot, tmp_path: Path) -> None:
    t0 = time.monotonic()
    with ExitStack() as stack:
        monado = stack.enter_context(monado_service(tmp_path))
        remote = stack.enter_context(MonadoRemote("127.0.0.1", monado.port))
        remote.send(AIM)
        args = ["--world-seed", str(WORLD_SEED), "--planet", str(PLANET)]
        proc, events, _log = stack.enter_context(
            godot_vr(tmp_path, monado, [*args, "--view-radius", str(VIEW_RADIUS)])
        )
        driver = VrDriver(remote, events, [proc, monado.proc])
        try:
            await _start_vr(driver)
            row = await driver.wait(
                "tracked right controller",
                lambda e: e["event"] == "controller" and e["tracked"],
                STEP_TIMEOUT_S,
            )
            assert row["profile"] == "/interaction_profiles/valve/index_controller"
            # the remote pose arrived: 1.2 m up, 0.3 m ahead of the origin
            assert abs(row["position"][1] - 1.2) < 0.01 and abs(row["position"][2] + 0.3) < 0.01
            await driver.wait("aim at terrain", lambda e: e["event"] == "aim" and e["valid"], 240)
            apply = await driver.pull_trigger()
            assert apply["mode"] == "excavate" and apply["radius"] == pytest.approx(1.5)
            assert not apply["sent"], "offline: nothing to send to"
            assert apply["haptic"] == "reject", "an edit that cannot be sent feels rejected"
            radius = await driver.stick(1.0, 0.6)
            assert radius > 1.8
            mode = await driver.press_a()
            assert mode["mode"] == "elevate"
            apply = await driver.pull_trigger()
            assert apply["mode"] == "elevate" and apply["radius"] == pytest.approx(radius)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_describe(tmp_path)}") from None
    print(f"offline VR tool test: {time.monotonic() - t0:.1f} s")


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_vr_edits_reach_server(vr_ready: Godot, tmp_path: Path) -> None:
    from server.client.client import GameClient, generated_voxels
    from server.world.delta import apply_delta_payload
    from server.world.soil import soil_units

    t0 = time.monotonic()
    with ExitStack() as stack:
        data = tmp_path / "data"
        server = GameServer(stack, data, tmp_path / "server.log", ["--world-seed", str(WORLD_SEED)])
        observer = await GameClient.connect(server.url, name="observer")
        try:
            joined = await observer.join(display_name="observer")
            await observer.subscribe_around(3)
            deltas: list[tuple[tuple[int, int, int], int]] = []
            observer.delta_listeners.append(lambda c, v, _t: deltas.append((c, v)))

            monado = stack.enter_context(monado_service(tmp_path))
            remote = stack.enter_context(MonadoRemote("127.0.0.1", monado.port))
            remote.send(AIM)
            args = [
                "--server", server.url, "--world-seed", str(WORLD_SEED),
                "--planet", str(joined.planet_index), "--view-radius", str(VIEW_RADIUS),
            ]  # fmt: skip
            proc, events, _log = stack.enter_context(godot_vr(tmp_path, monado, args))
            driver = VrDriver(remote, events, [proc, monado.proc, server.proc])

            await _start_vr(driver)
            me = await driver.wait("join", lambda e: e["event"] == "joined", STEP_TIMEOUT_S)
            assert me["canisters"] == [0] * len(me["canisters"]), "a disposable player's are empty"
            await driver.wait("aim", lambda e: e["event"] == "aim" and e["valid"], 300)

            async def edit(expect_mode: str) -> tuple[Event, Event]:
                apply = await driver.pull_trigger()
                assert apply["mode"] == expect_mode and apply["sent"], apply
                assert apply["haptic"] == "apply", apply
                res = await driver.wait(
                    f"result of {apply['seq']}",
                    lambda e: e["event"] == "resolved" and e["seq"] == apply["seq"],
                    STEP_TIMEOUT_S,
                )
                assert res["accepted"], f"server rejected the {expect_mode}: {res}"
                return apply, res

            async def observed(versions: dict[tuple[int, int, int], int]) -> None:
                deadline = time.monotonic() + STEP_TIMEOUT_S
                while not all(
                    observer.chunks.get(c) is not None and observer.chunks[c].version >= v
                    for c, v in versions.items()
                ):
                    assert time.monotonic() < deadline, f"observer missing {versions}: {deltas}"
                    driver.send()
                    await asyncio.sleep(0.1)

            # 1. excavate at the default radius
            apply1, res1 = await edit("excavate")
            assert apply1["radius"] == pytest.approx(1.5)
            assert res1["soil_delta"] > 0 and res1["soil_total"] == res1["soil_delta"]
            versions1 = {tuple(c): v for c, v in res1["chunks"]}
            assert versions1, res1
            await observed(versions1)
            assert any(c in versions1 for c, _v in deltas), "no TERRAIN_DELTA for the edit"
            changed = [
                c for c in versions1
                if soil_units(observer.voxels(c)[0])
                != soil_units(generated_voxels(WORLD_SEED, joined.planet_index, c)[0])
            ]  # fmt: skip
            assert changed, "the observer's voxels did not change"

            # 2. the thumbstick makes the next edit bigger
            radius = await driver.stick(1.0, 0.5)
            assert radius > 1.8
            apply2, res2 = await edit("excavate")
            assert apply2["radius"] == pytest.approx(radius, abs=1e-4)
            assert res2["soil_total"] == res1["soil_total"] + res2["soil_delta"]

            # 3. elevate (smallest radius): the canisters lose what the terrain gains
            await driver.stick(-1.0, 2.5)
            mode = await driver.press_a()
            assert mode["mode"] == "elevate"
            snapshot = {c: lc.payload for c, lc in observer.chunks.items()}
            _apply3, res3 = await edit("elevate")
            versions3 = {tuple(c): v for c, v in res3["chunks"]}
            await observed(versions3)
            added = 0
            for c in versions3:
                d, m = generated_voxels(WORLD_SEED, joined.planet_index, c)
                payload = snapshot[c]
                old = d if payload is None else apply_delta_payload(d, m, payload)[0]
                added += soil_units(observer.voxels(c)[0]) - soil_units(old)
            assert res3["soil_delta"] < 0 and added == -res3["soil_delta"], (res3, added)
            assert res3["soil_total"] == res2["soil_total"] + res3["soil_delta"]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_describe(tmp_path)}") from None
        finally:
            with contextlib.suppress(Exception):
                await observer.close()
    print(f"VR end-to-end test: {time.monotonic() - t0:.1f} s")
