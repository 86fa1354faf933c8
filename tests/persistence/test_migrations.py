"""Alembic migrations produce exactly the SQLModel schema; SQLite pragmas are set."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from server.persistence import make_engine, models, upgrade_to_head
from server.persistence.migrate import alembic_config, current_revision, include_object


def schema_diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(ctx, SQLModel.metadata)


def test_upgrade_head_matches_models(db_url):
    engine = make_engine(db_url())
    upgrade_to_head(engine)
    assert current_revision(engine) == "0003"
    assert set(models.TABLES) <= set(inspect(engine).get_table_names())
    assert schema_diff(engine) == []
    upgrade_to_head(engine)  # idempotent
    engine.dispose()


def test_downgrade_to_base_and_back(db_url):
    url = db_url()
    engine = make_engine(url)
    upgrade_to_head(engine)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not set(models.TABLES) & set(inspect(engine).get_table_names())
    upgrade_to_head(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_sqlite_pragmas(db_url):
    engine = make_engine(db_url())
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
