"""Helpers shared by the ``tests/shared_gen`` tests: Hypothesis strategies, cache reset.

Strategies sample *valid* inputs cheaply: a world seed, a planet index that exists in
that seed's system, and a chunk near the planet's surface (``surface_chunk`` of a random
direction plus an offset of at most one chunk per axis, clamped to the planet's grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from shared_gen import biosphere, planet, solar_system
from shared_gen.constants import SEED_MAX
from shared_gen.planet import field_params, surface_chunk

#: Every Hypothesis property of this folder: >= 100 examples, no per-example deadline.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Seeds that exercise the edges of the accepted range (0, 32-bit boundary, 2**63 - 1).
EDGE_SEEDS = (0, 1, 42, 2**31 - 1, 2**32 - 1, 2**32, 2**32 + 7, 123456789, SEED_MAX)

world_seeds = st.one_of(st.sampled_from(EDGE_SEEDS), st.integers(0, SEED_MAX))


def clear_caches() -> None:
    """Forget every cached system / planet / biosphere so the next call recomputes."""
    solar_system.generate_solar_system.cache_clear()
    planet.field_params.cache_clear()
    biosphere.generate_biosphere.cache_clear()


@st.composite
def planets(draw: st.DrawFn) -> tuple[int, int]:
    """(world seed, planet index) of an existing planet."""
    seed = draw(world_seeds)
    count = len(solar_system.generate_solar_system(seed).planets)
    return seed, draw(st.integers(0, count - 1))


def _direction(draw: st.DrawFn) -> tuple[float, float, float]:
    comp = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
    d = (draw(comp), draw(comp), draw(comp))
    if max(abs(v) for v in d) < 1e-3:
        d = (1.0, d[1], d[2])
    return d


@st.composite
def surface_chunks(draw: st.DrawFn, max_offset: int = 1) -> tuple[int, int, tuple[int, int, int]]:
    """(world seed, planet index, chunk) with the chunk at most ``max_offset`` chunks (per
    axis) from the chunk holding a random point of the reference sphere."""
    seed, idx = draw(planets())
    base = surface_chunk(seed, idx, _direction(draw))
    g = field_params(seed, idx).grid_radius
    off = st.integers(-max_offset, max_offset)
    ch = tuple(min(g, max(-g, v + draw(off))) for v in base)
    return seed, idx, ch  # type: ignore[return-value]


def lattice_equal(a: Any, b: Any) -> bool:
    """Field-by-field equality of two ``LatticeFields`` (NaN == NaN for terrain height)."""
    return all(
        np.array_equal(getattr(a, f), getattr(b, f), equal_nan=(f == "terrain_height"))
        for f in ("density", "depth", "biome", "ore", "rock", "terrain_height")
    )
