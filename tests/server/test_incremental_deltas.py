"""Protocol v2 incremental terrain deltas (encoding 2 INCREMENTAL_ZSTD) end to end: a v2
client follows many edits of one chunk through incremental entries, a v1 client still gets
whole deltas, a client holding the wrong base version resubscribes and converges."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from server_helpers import along_surface, below
from test_server_integration import joined, server_voxels

from server.client import GameClient
from server.protocol import PROTOCOL_VERSION, EditMode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


async def _dig_many(a: GameClient, n: int) -> dict[tuple[int, int, int], int]:
    """``n`` small edits close together; returns chunk -> newest version."""
    assert a.joined is not None
    newest: dict[tuple[int, int, int], int] = {}
    for i in range(n):
        spot = below(along_surface(a.joined.position, 0.6 * (i % 4)), 0.8 + 0.4 * (i // 4))
        mode = EditMode.ELEVATE if i % 3 == 2 else EditMode.EXCAVATE
        res = await a.edit(mode, spot, 1.0)
        assert res.accepted, res
        for c, v in res.chunk_versions:
            newest[c] = max(v, newest.get(c, 0))
        await asyncio.sleep(0.15)  # separate ticks, within the edit rate
    return newest


async def test_v2_incremental_v1_whole_and_mismatch_resubscribes(start_server: Any) -> None:
    srv = start_server()
    a = await joined(srv.url, "editor")
    b = await joined(srv.url, "v2-peer")
    old = await GameClient.connect(srv.url, name="v1-peer", max_version=1)
    await old.join(None, "v1-peer")
    coords = await old.subscribe_around()
    await old.wait_for(lambda: all(k in old.chunks for k in coords), 20)
    assert b.welcome is not None and b.welcome.version == PROTOCOL_VERSION
    assert old.welcome is not None and old.welcome.version == 1

    newest = await _dig_many(a, 10)
    assert newest
    for c, v in newest.items():
        for cl in (a, b, old):
            await cl.wait_chunk(c, v)
    assert b.delta_entries_by_encoding.get(2, 0) >= 5, b.delta_entries_by_encoding
    assert old.delta_entries_by_encoding.get(2, 0) == 0, old.delta_entries_by_encoding
    assert old.delta_entries_by_encoding.get(1, 0) >= 10
    assert b.resubscribes == 0

    # b "misses an update": it now holds an older version than the server thinks
    c0 = next(iter(newest))
    lc = b.chunks[c0]
    b.chunks[c0] = type(lc)(lc.version - 1, lc.payload, lc.patch)
    more = await _dig_many(a, 4)
    final = dict(newest)
    final.update(more)
    for c, v in final.items():
        for cl in (a, b, old):
            await cl.wait_chunk(c, v)
    assert b.resubscribes >= 1

    views = {name: {c: cl.voxels(c) for c in final} for name, cl in
             (("a", a), ("b", b), ("old", old))}
    for cl in (a, b, old):
        await cl.close()
    assert srv.stop() == 0
    stored = server_voxels(srv.data_dir, list(final))
    for c, v in final.items():
        assert stored[c][2] == v
        for name, view in views.items():
            assert np.array_equal(view[c][0], stored[c][0]), (name, c)
            assert np.array_equal(view[c][1], stored[c][1]), (name, c)
