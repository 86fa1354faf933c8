"""Alembic environment: online migrations only, on the caller's connection if given."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

from server.persistence import models, orchestrator_models  # noqa: F401  (registers tables)
from server.persistence.migrate import include_object

config = context.config
target_metadata = SQLModel.metadata


def run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


conn = config.attributes.get("connection")
if conn is not None:
    run(conn)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.", poolclass=pool.NullPool,
    )
    with engine.connect() as c:
        run(c)
