"""Edit and transform validation: every reject reason, and that rejects change nothing."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.world import EditMode, RejectReason

PROPS = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
BAD = st.sampled_from([math.nan, math.inf, -math.inf])


def test_unknown_player(make_world, spawn):
    w, _ = make_world()
    res = w.apply_edit(999, EditMode.EXCAVATE, spawn, 1.0, 3, 0.0)
    assert (res.accepted, res.reason, res.seq) == (False, RejectReason.UNKNOWN_PLAYER, 3)
    assert w.set_transform(999, spawn, (0, 0, 0, 1)) == RejectReason.UNKNOWN_PLAYER
    assert w.detach_canister(999, 0).reason == RejectReason.UNKNOWN_PLAYER
    assert w.undo_last_edit(999, 0, 0.0).reason == RejectReason.UNKNOWN_PLAYER


@PROPS
@given(bad=BAD, axis=st.integers(0, 4))
def test_non_finite_numbers_are_rejected(make_world, spawn, bad, axis):
    w, p = make_world()
    c = list(spawn)
    r = 1.0
    if axis < 3:
        c[axis] = bad
    else:
        r = bad
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, tuple(c), r, 0, 0.0)
    assert res.reason == RejectReason.INVALID_NUMBER and not res.accepted
    assert w.drain_changed() == {}
    pos = list(spawn)
    pos[axis % 3] = bad
    assert w.set_transform(p.player_id, tuple(pos), (0, 0, 0, 1)) == RejectReason.INVALID_NUMBER
    rot = [0.0, 0.0, 0.0, 1.0]
    rot[axis % 4] = bad
    assert w.set_transform(p.player_id, spawn, tuple(rot)) == RejectReason.INVALID_NUMBER
    assert p.position == spawn


@PROPS
@given(r=st.floats(-10, 20, allow_nan=False).filter(lambda v: not 0.5 <= v <= 4.0))
def test_radius_out_of_range(make_world, spawn, r):
    w, p = make_world()
    res = w.apply_edit(p.player_id, EditMode.ELEVATE, spawn, r, 0, 0.0)
    assert res.reason == RejectReason.RADIUS_OUT_OF_RANGE


@PROPS
@given(d=st.floats(8.001, 100.0), axis=st.integers(0, 2), sign=st.sampled_from([-1, 1]))
def test_out_of_reach(make_world, spawn, d, axis, sign):
    w, p = make_world()
    c = list(spawn)
    c[axis] += sign * d
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, tuple(c), 1.0, 0, 0.0)
    assert res.reason == RejectReason.OUT_OF_REACH


def test_reach_is_measured_from_the_last_known_position(make_world, spawn):
    w, p = make_world()
    far = (spawn[0] + 20.0, spawn[1], spawn[2])
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, far, 1.0, 0, 0.0).reason == (
        RejectReason.OUT_OF_REACH)
    assert w.set_transform(p.player_id, (far[0] - 3.0, far[1], far[2]), (0, 0, 0, 1)) == (
        RejectReason.NONE)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, far, 1.0, 0, 0.0).reason != (
        RejectReason.OUT_OF_REACH)


def test_outside_world(make_world):
    w, p = make_world()
    edge = (w.terrain.grid_radius + 1) * 16.0
    assert w.set_transform(p.player_id, (edge + 1.0, 0.0, 0.0), (0, 0, 0, 1)) == (
        RejectReason.OUTSIDE_WORLD)
    # a player at the very edge of the grid: the edit's box leaves the grid
    inside = (edge - 2.0, 0.0, 0.0)
    assert w.set_transform(p.player_id, inside, (0, 0, 0, 1)) == RejectReason.NONE
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, inside, 1.0, 0, 0.0)
    assert res.reason == RejectReason.OUTSIDE_WORLD


def test_rate_limit_token_bucket(make_world, spawn):
    """Burst of 4, then 8 per second; a token is spent by every edit reaching the check."""
    w, p = make_world(canister_capacity=10**9)
    res = [w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 1.0, i, 10.0) for i in range(6)]
    assert [r.reason == RejectReason.RATE_LIMITED for r in res] == [False] * 4 + [True] * 2
    # 0.1 s refills 0.8 token: still limited; 0.125 s refills exactly one
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 1.0, 6, 10.1).reason == (
        RejectReason.RATE_LIMITED)
    assert w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 1.0, 7, 10.125).reason != (
        RejectReason.RATE_LIMITED)
    # after one second the bucket is full again (4), never more
    later = [w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 1.0, i, 20.0) for i in range(6)]
    assert sum(r.reason == RejectReason.RATE_LIMITED for r in later) == 2


@pytest.mark.parametrize("mode", [5, -1, None, "x", [1]])
def test_unknown_mode(make_world, spawn, mode):
    w, p = make_world()
    res = w.apply_edit(p.player_id, mode, spawn, 1.0, 0, 0.0)
    assert res.reason == RejectReason.INVALID_NUMBER


def test_canisters_full_and_not_enough_soil(make_world, spawn):
    w, p = make_world(canister_capacity=100)
    p.canisters[:] = [100, 100]
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, spawn, 3.0, 0, 0.0)
    assert res.reason == RejectReason.CANISTERS_FULL
    p.canisters[:] = [0, 0]
    up = (spawn[0] * 1.002, spawn[1], spawn[2] * 1.002)  # ~1.4 m above the spawn, in air
    res = w.apply_edit(p.player_id, EditMode.ELEVATE, up, 1.0, 1, 1.0)
    assert res.reason == RejectReason.NOT_ENOUGH_SOIL
    assert w.drain_changed() == {}


@pytest.mark.parametrize("bad", [None, "abc", (1.0, 2.0), (1.0, 2.0, 3.0, 4.0), 10**400])
def test_malformed_vectors_are_invalid_numbers(make_world, spawn, bad):
    w, p = make_world()
    res = w.apply_edit(p.player_id, EditMode.EXCAVATE, bad, 1.0, 0, 0.0)
    assert res.reason == RejectReason.INVALID_NUMBER
    assert w.set_transform(p.player_id, bad, (0, 0, 0, 1)) == RejectReason.INVALID_NUMBER
    if bad != (1.0, 2.0, 3.0, 4.0):  # a valid (unnormalized) quaternion
        assert w.set_transform(p.player_id, spawn, bad) == RejectReason.INVALID_NUMBER
