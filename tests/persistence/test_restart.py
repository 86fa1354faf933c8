"""Terrain and characters survive a restart (seed 002 Properties 8 and 40); the crash
loss window is what docs/persistence.md says."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.persistence import WorldStore
from server.world import EditMode, World, WorldConfig

PROPS = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
OFFSET = st.floats(-4.5, 4.5, allow_nan=False)
EDIT = st.tuples(st.integers(0, 1), st.sampled_from(list(EditMode)),
                 st.tuples(OFFSET, OFFSET, OFFSET), st.floats(0.5, 4.0, allow_nan=False))
CFG = WorldConfig(42, 0, canister_capacity=5000)


def snapshot(w: World) -> dict:
    return {k: (v, *(a.copy() for a in w.voxels(k)))
            for k, v in w.terrain.modified_chunks().items()}


def assert_same_terrain(w: World, snap: dict) -> None:
    assert w.terrain.modified_chunks() == {k: v[0] for k, v in snap.items()}
    for k, (version, d, m) in snap.items():
        assert w.chunk_version(k) == version
        d2, m2 = w.voxels(k)
        assert np.array_equal(d2, d) and np.array_equal(m2, m)


@PROPS
@given(edits=st.lists(EDIT, min_size=1, max_size=6), detach=st.booleans(),
       clean=st.booleans())
def test_property_8_40_flushed_edits_survive_restart(db_url, edits, detach, clean):
    """Property 8 / 40: after flush (or clean close) and reopen, voxels, versions,
    characters and canisters are restored exactly; later versions keep increasing."""
    url = db_url()
    w = World(CFG, WorldStore(url))
    alice = w.join("alice", 0.0)
    anon = w.join(None, 0.0)
    alice.canisters[:] = [2500, 0]
    players = [alice, anon]
    for i, (who, mode, off, r) in enumerate(edits):
        c = tuple(a + b for a, b in zip(alice.position, off, strict=True))
        w.apply_edit(players[who].player_id, mode, c, r, i, float(i))
    if detach:
        w.detach_canister(alice.player_id, 0)
    snap = snapshot(w)
    soil = list(alice.canisters)
    loose = w.loose_canisters()
    if clean:
        w.close()  # a clean shutdown flushes everything, characters included
    else:
        w.flush()
        w._store.close()  # crash right after a flush  # type: ignore[union-attr]
    w2 = World(CFG, WorldStore(url))
    assert_same_terrain(w2, snap)
    assert w2.loose_canisters() == loose
    again = w2.join("alice", 0.0)
    assert again.canisters == soil and again.character_id == alice.character_id
    assert again.position == alice.position
    res = w2.apply_edit(again.player_id, EditMode.ELEVATE, again.position, 2.0, 0, 100.0)
    for k, v in res.chunk_versions.items():
        assert v == snap.get(k, (0,))[0] + 1
    w2.close()


def test_crash_loses_at_most_the_unflushed_edits(db_url):
    """Edits after the last flush are lost by a crash; everything flushed is there."""
    url = db_url()
    now = [0.0]
    w = World(CFG, WorldStore(url), clock=lambda: now[0])
    p = w.join(None, 0.0)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 2.0, 0, 0.0).accepted
    now[0] = 5.0
    w.advance_tick()  # debounce elapsed: flushed
    assert not w.dirty
    snap = snapshot(w)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 3.0, 1, 1.0).accepted
    now[0] = 9.0
    w.advance_tick()  # 4 s < 5 s: not yet flushed
    assert w.dirty
    w._store.close()  # crash  # type: ignore[union-attr]
    w2 = World(CFG, WorldStore(url))
    assert_same_terrain(w2, snap)
    w2.close()


def test_leave_saves_the_character_with_the_terrain_it_dug(db_url):
    """Soil conservation survives a crash after a leave: the character's soil and the
    excavation it came from are written in the same transaction."""
    url = db_url()
    w = World(CFG, WorldStore(url))
    p = w.join("digger", 0.0)
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 3.0, 0, 0.0)
    assert res.accepted and res.soil_delta > 0
    snap = snapshot(w)
    w.leave(p.player_id)
    assert not w.dirty
    w._store.close()  # crash right after the leave  # type: ignore[union-attr]
    w2 = World(CFG, WorldStore(url))
    assert_same_terrain(w2, snap)
    assert w2.join("digger", 0.0).soil_total == res.soil_delta
    w2.close()


def test_failed_flush_keeps_everything_pending(db_url, monkeypatch):
    """A store error during the tick's flush is logged, not raised; nothing is lost and
    the next flush writes it all."""
    url = db_url()
    now = [0.0]
    store = WorldStore(url)
    w = World(CFG, store, clock=lambda: now[0])
    p = w.join(None, 0.0)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 2.0, 0, 0.0).accepted
    snap = snapshot(w)

    def broken(*_a: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(store, "save_batch", broken)
        now[0] = 6.0
        w.advance_tick()  # must not raise
        assert w.dirty and w.terrain.dirty_count == len(snap)
    now[0] = 11.0
    w.advance_tick()
    assert not w.dirty
    w._store.close()  # crash  # type: ignore[union-attr]
    w2 = World(CFG, WorldStore(url))
    assert_same_terrain(w2, snap)
    w2.close()


def test_payload_of_a_stored_chunk_needs_no_generation(db_url, monkeypatch):
    """After a restart, a modified chunk's payload comes straight from the store."""
    url = db_url()
    w = World(CFG, WorldStore(url))
    p = w.join(None, 0.0)
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 2.0, 0, 0.0)
    payloads = {k: w.chunk_delta_payload(k) for k in res.chunk_versions}
    w.close()
    w2 = World(CFG, WorldStore(url))
    import server.world.terrain as terrain_module

    def no_generation(*_a: object) -> None:
        raise AssertionError("generated")

    monkeypatch.setattr(terrain_module, "generate_chunk", no_generation)
    assert {k: w2.chunk_delta_payload(k) for k in payloads} == payloads
    w2.close()
