"""``planet-server map``: the map process's main (started by the orchestrator only).

Environment (set by the orchestrator's spawner, never on the command line):
``PLANET_ORCH_URL`` (the orchestrator's loopback control app),
``PLANET_ORCH_INTERNAL_RPC_SECRET``, ``PLANET_ORCH_PID`` (the parent, for the death
signal) and the ``PLANET_*`` / ``PLANET_ORCH_*`` settings. The map's
:class:`~server.orchestrator.mapconfig.MapConfig` comes as ``--config-json``.

Start-up: die with the parent (``PR_SET_PDEATHSIG``), ``/orch/rehydrate`` (retried for
up to 30 s), build the world on a :class:`~.remote_store.RemoteStore`, start the control
app on ``127.0.0.1:<MAP_CONTROL_PORT_BASE + planet index>`` (0 = any free port) and the
game WebSocket server on ``<host>:<map_game_port_base + planet index>`` (0 = any), then
``/orch/map-ready`` with both addresses. Every ``MAP_HEARTBEAT_MS`` a heartbeat; when
the orchestrator has not answered for ``ORCH_HEARTBEAT_TIMEOUT_MS`` the map stops (it
would be an orphan). SIGTERM or ``/control/stop-instance``: GOODBYE 1001 to every client,
a last flush, wait (10 s at most) until the orchestrator has every snapshot, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import time
from typing import Any

import httpx

from server.config import Settings
from server.logging import configure, log
from server.net.server import GameServer
from server.orchestrator.control import ControlClient, control_server, create_map_control_app
from server.orchestrator.mapconfig import MapConfig
from server.orchestrator.settings import OrchestratorSettings, load_orchestrator_settings
from server.world import World, WorldConfig

from .gateway import OrchestratorGateway
from .remote_store import RemoteStore

logger = logging.getLogger("server.mapproc")

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None) -> None:
    """Linux: SIGKILL this process when its parent dies (an orchestrator killed with -9
    must not leave orphan maps holding ports). Exits at once if the parent is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def advertised_host(host: str, advertise: str | None) -> str:
    """The host clients should dial: ``advertise`` if set, else the bind host (a
    wildcard bind advertises 127.0.0.1)."""
    if advertise:
        return advertise
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _rehydrate(rpc: ControlClient, cfg: MapConfig, wait_s: float = 30.0
                     ) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            r = await rpc.post("/orch/rehydrate", {"mapId": cfg.map_id,
                                                   "instanceId": cfg.instance_id})
            r.raise_for_status()
            out: dict[str, Any] = r.json()
            return out
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def run_map(settings: Settings, orch: OrchestratorSettings, cfg: MapConfig,
                  orch_url: str) -> None:
    """Run the map until it is stopped (see the module docstring).

    Raises:
        httpx.HTTPError: the orchestrator could not be reached at start.
        OSError: a port cannot be bound.
    """
    t0 = time.perf_counter()
    secret = orch.internal_rpc_secret.get_secret_value()
    rpc = ControlClient(orch_url, secret, timeout_s=5.0)
    reh = await _rehydrate(rpc, cfg)
    store = RemoteStore(rpc, map_id=cfg.map_id, instance_id=cfg.instance_id,
                        world_seed=cfg.world_seed, planet_index=cfg.planet_index,
                        rehydrated=reh)
    game_port = orch.map_game_port_base + cfg.planet_index if orch.map_game_port_base else 0
    st = settings.model_copy(update={
        "world_seed": cfg.world_seed, "planet_index": cfg.planet_index, "port": game_port,
        "server_name": cfg.map_id, "flush_interval_s": orch.map_snapshot_push_ms / 1000})
    world = World(WorldConfig(world_seed=cfg.world_seed, planet_index=cfg.planet_index,
                              flush_debounce_s=st.flush_interval_s), store)
    gateway = OrchestratorGateway(rpc, store, cfg)
    server = GameServer(st, world, gateway=gateway)
    gateway.server = server
    control_port = (orch.map_control_port_base + cfg.planet_index
                    if orch.map_control_port_base else 0)
    control = control_server(create_map_control_app(gateway, secret), orch.control_host,
                             control_port)
    control_task = await control.start()
    control_url = f"http://{orch.control_host}:{control.port}"
    pusher = asyncio.create_task(store.run_pusher(), name="snapshot-pusher")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop, f"map stopping ({sig.name})")
    background: set[asyncio.Task[Any]] = set()

    async def announce(host: str, port: int) -> None:
        endpoint = f"ws://{advertised_host(host, orch.advertise_host)}:{port}"
        while True:
            try:
                r = await rpc.post("/orch/map-ready", {
                    "mapId": cfg.map_id, "instanceId": cfg.instance_id,
                    "endpoint": endpoint, "controlUrl": control_url})
                r.raise_for_status()
                break
            except httpx.HTTPError as e:
                log(logger, "map_ready_failed", logging.WARNING, error=repr(e))
                await asyncio.sleep(0.2)
        log(logger, "ready", map_id=cfg.map_id, endpoint=endpoint, control_url=control_url,
            chunks_restored=len(store.load_chunk_versions(0)),
            startup_ms=round((time.perf_counter() - t0) * 1000, 1))

    async def heartbeats() -> None:
        period = orch.map_heartbeat_ms / 1000
        last_ok = time.monotonic()
        while True:
            await asyncio.sleep(period)
            try:
                r = await rpc.post("/orch/map-heartbeat", {
                    "mapId": cfg.map_id, "instanceId": cfg.instance_id,
                    "stats": {"players": len(server.players), "tick": world.tick,
                              "pushes": store.pushes}})
                if r.status_code == 200 and r.json().get("ok"):
                    last_ok = time.monotonic()
            except httpx.HTTPError:
                pass
            if time.monotonic() - last_ok > orch.heartbeat_timeout_ms / 1000:
                log(logger, "orchestrator_lost", logging.ERROR)
                server.stop("orchestrator lost")
                return

    def ready(host: str, port: int) -> None:
        for coro in (announce(host, port), heartbeats()):
            task = loop.create_task(coro)
            background.add(task)
            task.add_done_callback(background.discard)

    try:
        await server.run(ready)  # ends with world.close(): the last flush is queued
        if not await store.drain(10.0):
            log(logger, "snapshots_not_delivered", logging.ERROR)
    finally:
        for task in list(background):
            task.cancel()
        await store.aclose(pusher)
        control.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(control_task, 5.0)
        await rpc.aclose()
    log(logger, "map_stopped", map_id=cfg.map_id)


def main_map(settings: Settings, config_json: str) -> int:
    """Entry point of ``planet-server map``; the exit code."""
    configure(settings.log_level)
    parent = os.environ.get("PLANET_ORCH_PID")
    die_with_parent(int(parent) if parent and parent.isdigit() else None)
    orch_url = os.environ.get("PLANET_ORCH_URL")
    if not orch_url:
        log(logger, "no_orchestrator", logging.ERROR,
            error="PLANET_ORCH_URL is not set: map processes are started by the orchestrator")
        return 2
    cfg = MapConfig.model_validate_json(config_json)
    try:
        asyncio.run(run_map(settings, load_orchestrator_settings(), cfg, orch_url))
    except (OSError, httpx.HTTPError) as e:
        log(logger, "map_failed", logging.ERROR, error=repr(e))
        return 1
    return 0
