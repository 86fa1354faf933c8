"""World behaviour: spawn, versions, change broadcast, undo log, joins, write-behind."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.world import CharacterInUseError, EditMode, RejectReason, World, WorldConfig
from server.world.csg import BAND_M, sphere_box
from server.world.terrain import chunk_range

PROPS = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def density_at(w: World, p: tuple[float, float, float]) -> int:
    g = [math.floor(v / 0.5 + 0.5) for v in p]
    d, _ = w.voxels((g[0] // 32, g[1] // 32, g[2] // 32))
    return int(d[g[0] % 32, g[1] % 32, g[2] % 32])


def test_spawn_is_on_the_surface_and_deterministic(make_world, spawn):
    w, p = make_world()
    assert p.position == spawn == w.spawn_position()
    n = math.sqrt(sum(v * v for v in spawn))
    up = tuple(v / n for v in spawn)
    below = tuple(s - 0.5 * u for s, u in zip(spawn, up, strict=True))
    assert density_at(w, below) > 0
    for k in range(1, 12):
        above = tuple(s + (k * 0.25 - 0.5) * u for s, u in zip(spawn, up, strict=True))
        assert density_at(w, above) <= 0


def test_excavate_makes_air_and_elevate_makes_soil(make_world, spawn):
    w, p = make_world()
    n = math.sqrt(sum(v * v for v in spawn))
    down = tuple(v * (n - 2.0) / n for v in spawn)
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, down, 1.5, 0, 0.0)
    assert res.accepted and res.soil_delta > 0
    assert density_at(w, down) < 0
    res = w.apply_edit(p.player_id, EditMode.ELEVATE, down, 0.5, 1, 1.0)
    assert res.accepted and res.soil_delta < 0
    assert density_at(w, down) > 0
    g = [math.floor(v / 0.5 + 0.5) for v in down]
    _, m = w.voxels((g[0] // 32, g[1] // 32, g[2] // 32))
    assert m[g[0] % 32, g[1] % 32, g[2] % 32] == 2  # SOIL


def test_material_is_air_exactly_where_density_is_not_positive(make_world, spawn):
    w, p = make_world(canister_capacity=10**6)
    for i, mode in enumerate([EditMode.EXCAVATE, EditMode.ELEVATE, EditMode.FLATTEN] * 3):
        c = (spawn[0] + i % 3 - 1.0, spawn[1] + 1.0 - i % 2, spawn[2])
        w.apply_edit(p.player_id, mode, c, 2.5, i, float(i))
    for coord in w.terrain.modified_chunks():
        d, m = w.voxels(coord)
        assert np.array_equal(d <= 0, m == 0)


@PROPS
@given(edits=st.lists(st.tuples(st.sampled_from(list(EditMode)),
                                st.floats(-4, 4), st.floats(0.5, 4.0)), max_size=8))
def test_versions_are_monotonic_and_reported(make_world, spawn, edits):
    """Every accepted edit bumps each changed chunk by one; results and drain agree."""
    w, p = make_world(canister_capacity=10**6)
    p.canisters[:] = [10**6 // 2, 0]
    seen: dict[tuple[int, int, int], int] = {}
    for i, (mode, dx, r) in enumerate(edits):
        c = (spawn[0] + dx, spawn[1], spawn[2])
        res = w.apply_edit(p.player_id, mode, c, r, i, float(i))
        drained = w.drain_changed()
        assert drained == res.chunk_versions
        for coord, v in res.chunk_versions.items():
            assert v == seen.get(coord, 0) + 1 == w.chunk_version(coord)
            seen[coord] = v
        lo, hi = sphere_box(c, r + BAND_M)
        assert set(res.chunk_versions) <= set(chunk_range(lo, hi))
        assert res.accepted == bool(res.chunk_versions)
    for coord, v in seen.items():
        assert w.chunk_delta_payload(coord)[0] == v
    assert w.chunk_delta_payload((0, 0, 0)) == (0, None)


def test_undo_restores_voxels_and_soil(make_world, spawn):
    w, p = make_world()
    before = {k: tuple(a.copy() for a in w.voxels(k))
              for k in chunk_range(*sphere_box(spawn, 3.0 + BAND_M))}
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 3.0, 0, 0.0)
    assert res.accepted and p.soil_total == res.soil_delta > 0
    undo = w.undo_last_edit(p.player_id, 1, 1.0)
    assert undo.accepted and undo.soil_delta == -res.soil_delta and p.soil_total == 0
    for k, (d, m) in before.items():
        assert np.array_equal(w.voxels(k)[0], d) and np.array_equal(w.voxels(k)[1], m)
    for k, v in undo.chunk_versions.items():
        assert v == res.chunk_versions[k] + 1  # versions never go back
    assert w.undo_last_edit(p.player_id, 2, 2.0).reason == RejectReason.NOTHING_TO_UNDO


def test_undo_refused_after_a_later_edit_on_the_same_chunk(make_world, spawn):
    w, p = make_world()
    q = w.join(None, 0.0)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 2.0, 0, 0.0).accepted
    assert w.apply_edit(q.player_id, EditMode.EXCAVATE, spawn, 3.0, 0, 0.0).accepted
    assert w.undo_last_edit(p.player_id, 1, 1.0).reason == RejectReason.NOTHING_TO_UNDO
    assert w.undo_last_edit(q.player_id, 1, 1.0).accepted


def test_undo_of_excavation_needs_the_soil_back(make_world, spawn):
    w, p = make_world()
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 2.0, 0, 0.0).accepted
    p.canisters[:] = [0, 0]  # (spent elsewhere)
    assert w.undo_last_edit(p.player_id, 1, 1.0).reason == RejectReason.NOT_ENOUGH_SOIL


def test_voxels_are_read_only(make_world, spawn):
    w, _ = make_world()
    d, _ = w.voxels((0, 0, 0))
    with pytest.raises(ValueError):
        d[0, 0, 0] = 1
    with pytest.raises(ValueError):
        w.voxels((10**6, 0, 0))


def test_persistent_join_in_memory_and_character_in_use(make_world):
    w, _ = make_world()
    a = w.join("alice-key", 0.0)
    assert a.character_id is not None
    with pytest.raises(CharacterInUseError):
        w.join("alice-key", 0.0)
    a.canisters[0] = 77
    assert w.set_transform(a.player_id, (1.0, 2.0, 700.0), (0, 0, 0, 2)) == RejectReason.NONE
    w.leave(a.player_id)
    b = w.join("alice-key", 1.0)
    assert b.character_id == a.character_id and b.player_id != a.player_id
    assert b.canisters[0] == 77 and b.position == (1.0, 2.0, 700.0)
    assert b.rotation == (0.0, 0.0, 0.0, 1.0)  # normalized
    assert w.join("bob-key", 0.0).character_id != a.character_id
    with pytest.raises(ValueError):
        w.join("", 0.0)


def test_debounced_flush_is_driven_by_the_clock():
    now = [100.0]
    w = World(WorldConfig(42, flush_debounce_s=5.0), clock=lambda: now[0])
    p = w.join(None, 0.0)
    assert not w.dirty
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, p.position, 2.0, 0, 0.0).accepted
    assert w.dirty
    now[0] = 104.9
    w.advance_tick()
    assert w.dirty and w.tick == 1
    now[0] = 105.0
    w.advance_tick()
    assert not w.dirty and w.tick == 2


def test_config_json_roundtrip_and_validation():
    cfg = WorldConfig(7, canister_capacity=123)
    assert WorldConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError):
        WorldConfig(7, min_radius_m=5.0, max_radius_m=4.0)
    with pytest.raises(ValueError):
        WorldConfig(7, tool_reach_m=math.nan)


def test_drain_changes_lists_base_version_and_written_voxels(make_world, spawn):
    """Several edits (and an undo) between two drains: the voxels at the listed indices,
    written over the chunk as of the base version, give the current voxels (protocol v2
    incremental deltas are built from this)."""
    w, p = make_world(canister_capacity=10**6)
    p.canisters[:] = [10**6 // 2, 0]
    w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 2.0, 0, 0.0)
    w.drain_changes()
    before = {k: (w.chunk_version(k), *(a.copy() for a in w.voxels(k)))
              for k in chunk_range(*sphere_box(spawn, 4.0 + BAND_M))}
    c2 = (spawn[0] + 1.0, spawn[1], spawn[2])
    w.apply_edit(p.player_id, EditMode.EXCAVATE, c2, 1.5, 1, 1.0)
    w.apply_edit(p.player_id, EditMode.ELEVATE, c2, 1.0, 2, 2.0)
    w.undo_last_edit(p.player_id, 3, 3.0)
    changes = w.drain_changes()
    assert changes and w.drain_changes() == {}
    for coord, ch in changes.items():
        v0, d0, m0 = before[coord]
        assert ch.base_version == v0 < ch.version == w.chunk_version(coord)
        d, m = w.voxels(coord)
        idx = ch.index.astype(np.int64)
        assert np.all(np.diff(idx) > 0)
        d1, m1 = d0.copy(), m0.copy()
        d1.reshape(-1)[idx] = d.reshape(-1)[idx]
        m1.reshape(-1)[idx] = m.reshape(-1)[idx]
        assert np.array_equal(d1, d) and np.array_equal(m1, m)
