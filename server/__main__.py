"""``planet-server serve [--single] [--data DIR] [--host H] [--port P] [--world-seed N] ...``

``serve`` runs the orchestrator: it owns the database, spawns map processes
(``planet-server map``, internal) and hands out join tickets at ``POST /orch/bootstrap``
on ``--port``. ``serve --single`` runs one game server process that owns the database
itself and takes WebSocket clients on ``--port`` directly (development, tests).

Flags override ``PLANET_*`` environment variables, which override the defaults of
:class:`server.config.Settings` (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from server.config import Settings


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (only flags given on the command line are set)."""
    p = argparse.ArgumentParser(prog="planet-server",
                                description="Planetary Survival dedicated server")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the orchestrator (or --single: one game server)",
                       argument_default=argparse.SUPPRESS)
    s.add_argument("--single", action="store_true",
                   help="one process: the game server owns the database, no orchestrator")
    s.add_argument("--data", dest="data_dir", type=Path,
                   help="data directory holding world.db (default ./data)")
    s.add_argument("--database-url", help="SQLAlchemy URL instead of <data>/world.db")
    s.add_argument("--host", help="bind address (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="TCP port (default 7777; 0 = any free port)")
    s.add_argument("--world-seed", type=int, help="world seed (default 1)")
    s.add_argument("--planet", dest="planet_index", type=int, help="planet index (default 0)")
    s.add_argument("--tick-rate", dest="tick_rate_hz", type=int, help="ticks per second (20)")
    s.add_argument("--max-players", type=int)
    s.add_argument("--view-radius", dest="view_radius_chunks", type=int,
                   help="subscription radius in chunks (default 4)")
    s.add_argument("--stream-bytes-per-s", type=int,
                   help="per-client chunk streaming budget, bytes/s (default 32768)")
    s.add_argument("--flush-interval", dest="flush_interval_s", type=float,
                   help="write-behind flush period, seconds (default 1)")
    s.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    m = sub.add_parser("map", help="a map process (started by the orchestrator only)",
                       argument_default=argparse.SUPPRESS)
    m.add_argument("--map-id", required=True)
    m.add_argument("--config-json", required=True, help="the MapConfig (JSON)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code (0 after a clean shutdown)."""
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    single = bool(args.pop("single", False))
    map_id = args.pop("map_id", None)
    config_json = args.pop("config_json", None)
    overrides: dict[str, Any] = dict(args)
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        print(f"planet-server: invalid settings:\n{e}", file=sys.stderr)
        return 2
    if command == "serve" and single:
        from server.app import run_server

        return run_server(settings)
    if command == "serve":
        from server.orchestrator.main import run_orchestrator

        return run_orchestrator(settings)
    if command == "map":
        from server.mapproc.runtime import main_map

        del map_id  # the id is in the MapConfig; the flag names the process in `ps`
        assert config_json is not None
        return main_map(settings, config_json)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
