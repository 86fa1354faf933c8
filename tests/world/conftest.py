"""Fixtures for the world tests: a planet, worlds with a player standing at the spawn.

``generate_chunk`` is pure, so a memo of it (tests/generation_memo.py) only saves
time: every World still copies the generated arrays before editing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from generation_memo import memoized_generation

from server.world import PlayerState, World, WorldConfig

SEED = 42
PLANET = 0

Vec3 = tuple[float, float, float]
MakeWorld = Callable[..., tuple[World, PlayerState]]


@pytest.fixture(scope="module", autouse=True)
def memo_generation() -> Iterator[None]:
    with memoized_generation():
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
