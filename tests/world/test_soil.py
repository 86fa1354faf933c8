"""Soil conservation (seed 002 Properties 1, 2 and 3) with the integer fill model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.world import EditMode, RejectReason, World, soil_units
from server.world.csg import sphere_box

PROPS = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
OFFSET = st.floats(-4.5, 4.5, allow_nan=False)  # |offset| < 8 m reach
OFFSETS = st.tuples(OFFSET, OFFSET, OFFSET)
RADII = st.floats(0.5, 4.0, allow_nan=False)
MODES = st.sampled_from([EditMode.EXCAVATE, EditMode.ELEVATE, EditMode.FLATTEN])
#: Half-size in metres of a box around the spawn holding every edit of these tests.
BOX_M = 11.0


def add(a: tuple[float, float, float], b: tuple[float, float, float]
        ) -> tuple[float, float, float]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def terrain_fill(w: World, center: tuple[float, float, float]) -> int:
    lo, hi = sphere_box(center, BOX_M)
    d, _ = w.terrain.read_region(lo, hi)
    return soil_units(d)


@PROPS
@given(off=OFFSETS, r=RADII)
def test_property_1_excavate_adds_exactly_the_removed_fill(make_world, spawn, off, r):
    """Property 1: soil added to the canisters == fill removed from the voxels."""
    w, p = make_world(canister_capacity=10**9)
    before = terrain_fill(w, spawn)
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, add(spawn, off), r, 7, 0.0)
    removed = before - terrain_fill(w, spawn)
    assert res.seq == 7
    if res.accepted:
        assert res.soil_delta == removed >= 0
        assert p.soil_total == res.soil_total == removed
        assert p.canisters[1] == 0  # slot 0 fills first
    else:
        assert res.reason == RejectReason.NO_EFFECT
        assert removed == 0 and p.soil_total == 0


@PROPS
@given(off=OFFSETS, r=RADII, capacity=st.integers(1, 3000), first=st.integers(0, 3000))
def test_property_1_excavation_is_limited_to_canister_room(
    make_world, spawn, off, r, capacity, first
):
    """Property 1 when the canisters overflow: only what fits is removed, exactly."""
    w, p = make_world(canister_capacity=capacity)
    p.canisters[0] = min(first, capacity)
    held = p.soil_total
    room = 2 * capacity - held
    before = terrain_fill(w, spawn)
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, add(spawn, off), r, 1, 0.0)
    removed = before - terrain_fill(w, spawn)
    assert removed == res.soil_delta == p.soil_total - held
    assert 0 <= removed <= room
    assert all(0 <= s <= capacity for s in p.canisters)
    if not res.accepted:
        assert res.reason in (RejectReason.NO_EFFECT, RejectReason.CANISTERS_FULL)
        if res.reason == RejectReason.CANISTERS_FULL:
            assert room == 0


@PROPS
@given(off=OFFSETS, r=RADII, soil=st.integers(0, 20000))
def test_property_2_elevate_consumes_exactly_the_added_fill(make_world, spawn, off, r, soil):
    """Property 2: soil consumed == fill added; refused (nothing changes) if short."""
    w, p = make_world(canister_capacity=10_000)
    p.canisters[:] = [min(soil, 10_000), max(0, soil - 10_000)]
    held = p.soil_total
    before = terrain_fill(w, spawn)
    res = w.apply_edit(p.player_id, EditMode.ELEVATE, add(spawn, off), r, 1, 0.0)
    added = terrain_fill(w, spawn) - before
    assert -res.soil_delta == added == held - p.soil_total
    if not res.accepted:
        assert res.reason in (RejectReason.NOT_ENOUGH_SOIL, RejectReason.NO_EFFECT)
        assert added == 0 and p.soil_total == held


@PROPS
@given(
    edits=st.lists(
        st.tuples(MODES | st.just("undo"), OFFSETS, RADII), min_size=1, max_size=8
    ),
    capacity=st.sampled_from([500, 5000, 10**6]),
)
def test_properties_1_2_edit_sequences_conserve_soil(make_world, spawn, edits, capacity):
    """Properties 1 and 2 over sequences (excavate, elevate, flatten, undo): terrain fill
    plus canister soil never changes, and each result's soil_delta is the fill change."""
    w, p = make_world(canister_capacity=capacity)
    total = terrain_fill(w, spawn) + p.soil_total
    for i, (mode, off, r) in enumerate(edits):
        before = terrain_fill(w, spawn)
        if mode == "undo":
            res = w.undo_last_edit(p.player_id, i, float(i))
        else:
            res = w.apply_edit(p.player_id, mode, add(spawn, off), r, i, float(i))
        after = terrain_fill(w, spawn)
        assert res.soil_delta == before - after
        assert after + p.soil_total == total
        assert all(0 <= s <= capacity for s in p.canisters)


@PROPS
@given(ops=st.lists(st.tuples(st.sampled_from(["detach", "attach"]), st.integers(0, 1)),
                    max_size=12),
       soil=st.tuples(st.integers(0, 16000), st.integers(0, 16000)))
def test_property_3_detach_attach_keeps_soil(make_world, ops, soil):
    """Property 3: a canister's soil survives any detach / attach sequence exactly."""
    w, p = make_world()
    p.canisters[:] = list(soil)
    content = {cid: s for cid, s in zip(p.canister_ids, p.canisters, strict=True)}
    for op, slot in ops:
        if op == "detach":
            r = w.detach_canister(p.player_id, slot)
            if r.ok:
                assert r.soil == content[r.canister_id]
        else:
            loose = sorted(w.loose_canisters())
            r = w.attach_canister(p.player_id, slot, loose[0] if loose else 999)
            if r.ok:
                assert p.canisters[slot] == content[r.canister_id]
        seen = dict(w.loose_canisters())
        seen.update({c: s for c, s in zip(p.canister_ids, p.canisters, strict=True) if c})
        assert seen == content
    for slot in range(2):
        if p.canister_ids[slot] is None:
            assert p.canisters[slot] == 0
