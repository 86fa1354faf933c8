"""Fixtures for the persistence tests: fresh database URLs, memoized generation.

``generate_chunk`` is pure; the memo (tests/generation_memo.py) only saves time (the
world copies the arrays before editing them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from generation_memo import memoized_generation


@pytest.fixture(scope="module", autouse=True)
def memo_generation() -> Iterator[None]:
    with memoized_generation():
        yield


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], str]:
    """``db_url()`` -> a URL of a new, empty SQLite file (usable inside hypothesis)."""
    root: Path = tmp_path_factory.mktemp("db")
    counter = itertools.count()

    def make() -> str:
        return f"sqlite:///{root / f'world{next(counter)}.db'}"

    return make
