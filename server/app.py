"""Wiring: settings -> store -> world -> game server, with signal handling.

``run_server(settings)`` is what ``planet-server serve --single`` runs (one game server
process owning the database; ``planet-server serve`` is the orchestrator,
:mod:`server.orchestrator.main`): it returns 0 after a clean
shutdown (SIGINT/SIGTERM: stop accepting, say GOODBYE 1001 to every session, flush the
world to the database, close it).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import cast

from server.config import Settings
from server.logging import configure, log
from server.net.server import GameServer
from server.persistence import WorldStore, default_database_url
from server.store_writer import ThreadedStore
from server.world import World, WorldConfig

logger = logging.getLogger("server.app")


def open_world(settings: Settings) -> World:
    """Open (and migrate) the database and load the world of the configured planet.

    Raises:
        ValueError: unknown planet or bad seed.
        sqlalchemy.exc.SQLAlchemyError: the database cannot be opened.
    """
    url = settings.database_url or default_database_url(settings.data_dir)
    store = ThreadedStore(WorldStore(url))  # flushes commit on a writer thread
    config = WorldConfig(world_seed=settings.world_seed, planet_index=settings.planet_index,
                         flush_debounce_s=settings.flush_interval_s)
    return World(config, cast(WorldStore, store))


async def serve(settings: Settings) -> None:
    """Run the server until SIGINT or SIGTERM."""
    t0 = time.perf_counter()
    world = open_world(settings)
    log(logger, "world_opened", data_dir=str(settings.data_dir.resolve()),
        world_seed=settings.world_seed, planet=settings.planet_index,
        modified_chunks=len(world.terrain.modified_chunks()),
        open_ms=round((time.perf_counter() - t0) * 1000, 1))
    server = GameServer(settings, world)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop, f"server shutting down ({sig.name})")

    def ready(host: str, port: int) -> None:
        log(logger, "ready", host=host, port=port,
            startup_ms=round((time.perf_counter() - t0) * 1000, 1))

    await server.run(ready)


def run_server(settings: Settings) -> int:
    """Blocking entry point; returns the process exit code."""
    configure(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except OSError as e:
        log(logger, "bind_failed", logging.ERROR, error=str(e))
        return 2
    log(logger, "exit", code=0)
    return 0
