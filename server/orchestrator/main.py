"""``planet-server serve``: the orchestrator process (seed 004, docs/orchestrator.md).

1. Open the ledger (``--database-url`` or ``<data>/world.db``; migrations run), the only
   writer of the database. The salt of auth-key hashes is kept in its ``host_setting``
   table (created once, so identities survive restarts) unless ``PLANET_ORCH_HOST_SALT``
   is given.
2. Start the control app (``/orch/*``, ``GET /health``) on
   ``127.0.0.1:PLANET_ORCH_ORCH_CONTROL_PORT`` (9099; 0 = any free port).
3. Spawn the default map process (``planet-server map``) and wait until it is ready; other
   maps are spawned lazily on the first join or transfer to them.
4. Serve the public bootstrap (``POST /orch/bootstrap``) on ``--host``/``--port`` (7777),
   log ``ready`` (with ``port``), supervise until SIGINT/SIGTERM.
5. Shutdown: every map is asked to stop (``/control/stop-instance``: GOODBYE 1001 to its
   clients, last snapshots pushed), a final checkpoint, the ledger closed; exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from server.config import Settings
from server.logging import configure, log
from server.persistence.engine import default_database_url

from .control import control_server, public_server
from .core import Orchestrator
from .ledger import AsyncLedger, Ledger
from .mapconfig import MapConfig
from .rpc import create_control_app, create_public_app
from .settings import OrchestratorSettings, load_orchestrator_settings
from .supervisor import MapUnavailable, SubprocessSpawner, UnavailableReason

logger = logging.getLogger("server.orchestrator.main")

#: ``host_setting`` name of the auth-key hash salt.
SALT_SETTING = "auth_key_salt"


def map_process_env(settings: Settings, orch: OrchestratorSettings, orch_url: str
                    ) -> dict[str, str]:
    """Environment added to a map process: the control URL and secret, the parent pid,
    and every game setting given to ``serve`` explicitly (flags become ``PLANET_*``)."""
    env = {"PLANET_ORCH_URL": orch_url,
           "PLANET_ORCH_INTERNAL_RPC_SECRET": orch.internal_rpc_secret.get_secret_value(),
           "PLANET_ORCH_PID": str(os.getpid())}
    for name in settings.model_fields_set:
        if name in ("data_dir", "database_url", "port", "world_seed", "planet_index"):
            continue
        value = getattr(settings, name)
        if value is not None:
            env[f"PLANET_{name.upper()}"] = str(value)
    return env


def map_argv(map_id: str, config: Any) -> list[str]:
    """The command line of a map process (the MapConfig JSON is not secret)."""
    assert isinstance(config, MapConfig)
    return [sys.executable, "-m", "server", "map", "--map-id", map_id,
            "--config-json", config.to_json()]


async def serve_orchestrator(settings: Settings) -> None:
    """Run the orchestrator until SIGINT/SIGTERM (module docstring).

    Raises:
        OSError: a port cannot be bound.
        sqlalchemy.exc.SQLAlchemyError: the database cannot be opened.
    """
    t0 = time.perf_counter()
    base = load_orchestrator_settings()
    url = settings.database_url or base.database_url or default_database_url(settings.data_dir)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(url)
    update: dict[str, Any] = {"world_seed": settings.world_seed,
                              "default_planet_index": settings.planet_index,
                              "database_url": url}
    if "host_salt" not in base.model_fields_set:
        update["host_salt"] = SecretStr(ledger.host_value(
            SALT_SETTING, lambda: secrets.token_urlsafe(32)))
    orch_settings = base.model_copy(update=update)
    aledger = AsyncLedger(ledger)

    spawner_env: dict[str, str] = {}
    spawner = SubprocessSpawner(map_argv, env=spawner_env,
                                unset=("PLANET_DATABASE_URL", "PLANET_ORCH_DATABASE_URL",
                                       "PLANET_DATA_DIR", "PLANET_ORCH_HOST_SALT",
                                       "PLANET_ORCH_HOST_SECRET"))
    orch = Orchestrator(orch_settings, aledger, spawner)
    control = control_server(create_control_app(orch), orch_settings.control_host,
                             orch_settings.orch_control_port)
    control_task = await control.start()
    orch_url = f"http://{orch_settings.control_host}:{control.port}"
    spawner_env.update(map_process_env(settings, orch_settings, orch_url))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    run_stop = asyncio.Event()
    run_task = asyncio.create_task(orch.run(run_stop), name="orchestrator")
    public = None
    public_task = None
    try:
        endpoint = await _start_default_map(orch)
        public = public_server(create_public_app(orch), settings.host, settings.port)
        public_task = await public.start()
        log(logger, "ready", host=settings.host, port=public.port, mode="orchestrator",
            control_port=control.port, default_map=orch.default_map_id,
            map_endpoint=endpoint, database=url.split("://", 1)[0],
            startup_ms=round((time.perf_counter() - t0) * 1000, 1))
        await stop.wait()
    finally:
        log(logger, "stopping")
        if public is not None and public_task is not None:
            public.should_exit = True
            await public_task
        await orch.stop_maps()
        run_stop.set()
        await run_task
        control.should_exit = True
        await control_task
        await aledger.close()
    log(logger, "stopped")


async def _start_default_map(orch: Orchestrator, wait_s: float = 60.0) -> str | None:
    """Spawn the default map and wait until it is healthy, through restarts.

    Raises:
        MapUnavailable: it is quarantined (crashed on every start) or never got ready.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await orch.ensure_map(orch.default_map_id, wait_ms=int(wait_s * 1000))
        except MapUnavailable as e:
            if e.reason is UnavailableReason.QUARANTINED or time.monotonic() > deadline:
                raise
            await asyncio.sleep(max(0.05, e.retry_after_ms / 1000))


def run_orchestrator(settings: Settings) -> int:
    """Blocking entry point of ``planet-server serve``; the exit code."""
    configure(settings.log_level)
    try:
        asyncio.run(serve_orchestrator(settings))
    except OSError as e:
        log(logger, "bind_failed", logging.ERROR, error=str(e))
        return 2
    except MapUnavailable as e:
        log(logger, "default_map_failed", logging.ERROR, error=str(e))
        return 1
    log(logger, "exit", code=0)
    return 0
