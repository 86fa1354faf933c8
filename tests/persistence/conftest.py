"""Fixtures for the persistence tests: fresh database URLs, memoized generation.

``generate_chunk`` is pure; the memo below only saves time (the world copies the
arrays before editing them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

import pytest

import server.world.terrain as terrain_module
from shared_gen import Chunk, generate_chunk


@lru_cache(maxsize=4096)
def _cached_chunk(seed: int, planet: int, coord: tuple[int, int, int]) -> Chunk:
    ch = generate_chunk(seed, planet, coord)
    ch.density.flags.writeable = False
    ch.material.flags.writeable = False
    return ch


@pytest.fixture(scope="module", autouse=True)
def memo_generation() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(terrain_module, "generate_chunk", _cached_chunk)
        yield


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], str]:
    """``db_url()`` -> a URL of a new, empty SQLite file (usable inside hypothesis)."""
    root: Path = tmp_path_factory.mktemp("db")
    counter = itertools.count()

    def make() -> str:
        return f"sqlite:///{root / f'world{next(counter)}.db'}"

    return make
