"""Engine creation by URL (SQLite or PostgreSQL) and the SQLite connection pragmas.

SQLite connections get ``journal_mode=WAL`` (readers never block the single writer),
``synchronous=NORMAL`` (a commit survives a process crash; the last commits before a
power loss may be lost, never corrupted), ``busy_timeout`` and ``foreign_keys=ON``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

#: Milliseconds a SQLite connection waits for a lock before failing with "busy".
BUSY_TIMEOUT_MS: Final = 5000
DB_FILE_NAME: Final = "world.db"


def default_database_url(data_dir: str | Path) -> str:
    """``sqlite:///<data_dir>/world.db`` (the directory is created)."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(path / DB_FILE_NAME).resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        cur.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get the pragmas in the module docstring."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)
