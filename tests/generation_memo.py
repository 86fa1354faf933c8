"""A memo of ``shared_gen.generate_chunk`` for the world and persistence tests.

``generate_chunk`` is pure, so serving repeated requests from a cache only saves time; the
arrays are made read-only so a test that edits them in place fails loudly (the world copies
generated arrays before editing them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import pytest

import server.world.terrain as terrain_module
from shared_gen import Chunk, generate_chunk


@lru_cache(maxsize=4096)
def cached_chunk(seed: int, planet: int, coord: tuple[int, int, int]) -> Chunk:
    """``generate_chunk`` with read-only arrays, memoized."""
    ch = generate_chunk(seed, planet, coord)
    ch.density.flags.writeable = False
    ch.material.flags.writeable = False
    return ch


@contextmanager
def memoized_generation() -> Iterator[None]:
    """Within the block, the world's terrain generates chunks through :func:`cached_chunk`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(terrain_module, "generate_chunk", cached_chunk)
        yield
