"""Fixtures of the orchestrator tests: a fake clock, ledger URLs for SQLite and a private
PostgreSQL cluster.

``pg_server`` starts PostgreSQL on a free port as the ``postgres`` user (root cannot run
``initdb``/``pg_ctl``), on a temporary data directory that user owns, once per session;
it installs the Debian package first if it is missing (as root, with apt-get). When that
is impossible the tests that need it skip locally and fail under CI=true
(``godot_support.require``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from godot_support import require
from orch_support import (
    FakeClock,
    PostgresUnavailableError,
    create_database,
    private_postgres,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres`` of a private cluster."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(private_postgres())
        except PostgresUnavailableError as e:
            require(False, f"PostgreSQL unavailable: {e}")
            raise AssertionError("not reached: require() skips or fails") from e
        yield url


_db_names = itertools.count()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the private cluster."""
    return create_database(pg_server, f"t{os.getpid()}_{next(_db_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ledger's URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect ``@pytest.mark.stress`` tests unless ``-m`` names ``stress`` (pyproject's
    addopts has no ``-m "not stress"`` yet). Deselected, not skipped: CI=true forbids
    skips."""
    if "stress" in (config.option.markexpr or ""):
        return
    stress = [i for i in items if i.get_closest_marker("stress") is not None]
    if stress:
        config.hook.pytest_deselected(items=stress)
        items[:] = [i for i in items if i.get_closest_marker("stress") is None]
