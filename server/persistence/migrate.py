"""Alembic, run programmatically: ``upgrade_to_head(engine)`` at every start.

Revisions live in ``server/persistence/migrations/versions``. To add one after changing
``models.py``::

    python -m server.persistence.migrate revision "add foo"   # autogenerate, review it
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from .models import TABLES
from .orchestrator_models import ORCHESTRATOR_TABLES

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: only our tables (``SQLModel.metadata`` is shared)."""
    ours = (*TABLES, *ORCHESTRATOR_TABLES)
    if type_ == "table":
        return name in ours
    table = getattr(obj, "table", None)
    return table is None or table.name in ours


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and ``url`` (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration to ``engine``'s database, in one transaction."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None before the first migration)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def main(argv: list[str] | None = None) -> int:
    """``revision MESSAGE [URL]``: autogenerate a revision against a migrated database."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] != "revision":
        print("usage: python -m server.persistence.migrate revision MESSAGE [URL]")
        return 2
    url = args[2] if len(args) > 2 else "sqlite:///autogen.db"
    command.revision(alembic_config(url), message=args[1], autogenerate=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
