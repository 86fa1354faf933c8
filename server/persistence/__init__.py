"""Persistence of worlds: SQLModel tables, the store, Alembic migrations.

Only changes over generation are stored (``docs/persistence.md``)::

    WorldStore(url) / WorldStore.from_data_dir(dir)   the single writer; migrates on open
    make_engine(url), default_database_url(dir)       SQLite (WAL, synchronous=NORMAL) or PG
    upgrade_to_head(engine)                           alembic upgrade head, programmatic
    PlanetRecord, CharacterRecord, CanisterRecord, FlushBatch   (from server.world.records)
"""

from server.world.records import CanisterRecord, CharacterRecord, FlushBatch, PlanetRecord

from .engine import default_database_url, make_engine
from .migrate import upgrade_to_head
from .store import StoreError, WorldStore

__all__ = [
    "CanisterRecord",
    "CharacterRecord",
    "FlushBatch",
    "PlanetRecord",
    "StoreError",
    "WorldStore",
    "default_database_url",
    "make_engine",
    "upgrade_to_head",
]
