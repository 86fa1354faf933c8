"""Fixtures for the world tests: a planet, worlds with a player standing at the spawn.

``generate_chunk`` is pure, so a memo of it (installed here) only saves
time: every World still copies the generated arrays before editing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import pytest

import server.world.terrain as terrain_module
from server.world import PlayerState, World, WorldConfig
from shared_gen import Chunk, generate_chunk

SEED = 42
PLANET = 0

Vec3 = tuple[float, float, float]
MakeWorld = Callable[..., tuple[World, PlayerState]]


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


@pytest.fixture(scope="module")
def spawn(memo_generation: None) -> Vec3:
    return World(WorldConfig(SEED, PLANET)).spawn_position()


@pytest.fixture(scope="module")
def make_world(memo_generation: None) -> MakeWorld:
    """``make_world(**config overrides) -> (world, disposable player at the spawn)``."""

    def make(**kw: object) -> tuple[World, PlayerState]:
        w = World(WorldConfig(SEED, PLANET, **kw))  # type: ignore[arg-type]
        return w, w.join(None, 0.0)

    return make
