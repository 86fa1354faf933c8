"""Terrain memory bounds: encoded delta payloads are an LRU of ``max_cached_payloads``;
an evicted payload comes back byte-identical (re-encoded or re-read from the store)."""

from __future__ import annotations

import numpy as np

from server.world.terrain import Terrain
from shared_gen.constants import CHUNK_SIZE


def _dig(t: Terrain, coord: tuple[int, int, int], edit_id: int) -> None:
    """Set one voxel of ``coord`` to air (a tiny edit that changes the chunk)."""
    lo = tuple(c * CHUNK_SIZE + 3 for c in coord)
    d, m = t.read_region(lo, lo)  # type: ignore[arg-type]
    d = np.full_like(d, -100 if d[0, 0, 0] >= 0 else 100)
    t.write_region(lo, d, m, edit_id, 1)  # type: ignore[arg-type]


def test_payload_cache_is_bounded_and_evictions_are_transparent() -> None:
    t = Terrain(1, 0, max_cached_payloads=16, max_cached_chunks=4096)
    coords = [(x, 0, 0) for x in range(40)]
    for i, c in enumerate(coords):
        _dig(t, c, i + 1)
    first = {c: t.payload(c) for c in coords}
    assert t.cached_payloads == 16
    assert all(v == 1 and p for v, p in first.values())
    again = {c: t.payload(c) for c in coords}  # evicted ones are encoded again
    assert again == first and t.cached_payloads == 16


def test_evicted_payloads_are_reread_from_the_store() -> None:
    stored: dict[tuple[int, int, int], tuple[int, bytes]] = {}
    calls: list[tuple[int, int, int]] = []

    def loader(coord: tuple[int, int, int]) -> tuple[int, bytes] | None:
        calls.append(coord)
        return stored.get(coord)

    t = Terrain(1, 0, max_cached_payloads=16, max_cached_chunks=16, loader=loader)
    coords = [(x, 1, 0) for x in range(24)]
    for i, c in enumerate(coords):
        _dig(t, c, i + 1)
    for c, v, p in t.take_dirty():  # "flushed": the store now holds them
        stored[c] = (v, p)
    for x in range(24):
        t.chunk((x, 2, 0))  # other chunks push the clean ones out of the chunk cache
    got = {c: t.payload(c) for c in coords}
    assert got == {c: stored[c] for c in coords}
    assert t.cached_payloads <= 16 and calls  # some came from the store again


def test_more_dirty_chunks_than_the_cache_holds_keep_their_edits() -> None:
    """Regression: with every cached chunk dirty, the chunk just loaded for an edit was
    evicted at once and the edit written to an orphaned state (lost)."""
    t = Terrain(1, 0, max_cached_chunks=16, loader=lambda c: None)
    coords = [(x, 1, 0) for x in range(24)]
    for i, c in enumerate(coords):
        _dig(t, c, i + 1)
    flushed = {c: v for c, v, _ in t.take_dirty()}  # raised before the fix
    assert flushed == dict.fromkeys(coords, 1)
    assert all(t.chunk(c).version == 1 for c in coords)
