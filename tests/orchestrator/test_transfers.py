"""The transfer state machine and the authority registry.

The stateful test interleaves joins, leaves, transfer requests, token presentations (also
to the wrong map and replays), releases, completions, refusals, timeouts, map crashes and
restarts. After every step: each map process simulates a character only if it holds its
lease (so no character has two authorities), and every character is held, in flight or
at rest, never lost.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from orch_support import FakeClock

from server.orchestrator.tokens import DenialReason, TokenDenied, TokenService
from server.orchestrator.transfers import (
    TERMINAL,
    TRANSITIONS,
    AbortReason,
    AuthorityRegistry,
    Fallback,
    Lease,
    TransferError,
    TransferManager,
    TransferRefusal,
    TransferState,
)

MAPS = ("planet-0", "planet-1", "planet-2")
DEFAULT = "planet-0"
CHARS = ("c0", "c1", "c2", "c3")
S = TransferState


def make_manager(clock, healthy) -> TransferManager:
    return TransferManager(AuthorityRegistry(), TokenService(b"s", clock_ms=clock),
                           default_map_id=DEFAULT, is_available=lambda m: m in healthy,
                           timeout_ms=5_000, clock_ms=clock)


# --- plain unit tests -------------------------------------------------------------------


def test_transition_table_is_the_seeds_chain():
    chain = [S.REQUESTED, S.TOKEN_ISSUED, S.DESTINATION_ACCEPTED, S.SOURCE_RELEASED,
             S.COMPLETED]
    for a, b in itertools.pairwise(chain):
        assert b in TRANSITIONS[a]
        assert S.ABORTED in TRANSITIONS[a]
    for s in TERMINAL:
        assert TRANSITIONS[s] == frozenset()
    assert sum(len(v) for v in TRANSITIONS.values()) == 8


def test_registry_fencing():
    r = AuthorityRegistry()
    a = r.acquire("c", "m1")
    assert r.acquire("c", "m1") == a
    with pytest.raises(TransferError) as ei:
        r.acquire("c", "m2")
    assert ei.value.code is TransferRefusal.ALREADY_HELD
    with pytest.raises(TransferError):
        r.release("c", "m1", a.epoch + 1)
    r.release("c", "m1", a.epoch)
    b = r.acquire("c", "m2")
    assert b.epoch > a.epoch
    assert not r.check("c", "m1", a.epoch)
    assert r.revoke_map("m2") == ["c"] and r.holder("c") is None


def test_happy_path_and_ordering(clock):
    healthy = set(MAPS)
    m = make_manager(clock, healthy)
    lease = m.place("c", "planet-0")
    t, token = m.request(character="c", character_id=1, from_map="planet-0",
                         to_map="planet-1")
    assert t.state is S.TOKEN_ISSUED
    with pytest.raises(TransferError):  # destination cannot take it before release
        m.complete(t.transfer_id, map_id="planet-1")
    with pytest.raises(TransferError):  # source cannot release before acceptance
        m.release(t.transfer_id, map_id="planet-0", epoch=lease.epoch)
    m.accept(token, map_id="planet-1")
    m.release(t.transfer_id, map_id="planet-0", epoch=lease.epoch)
    assert m.registry.holder("c") is None
    new = m.complete(t.transfer_id, map_id="planet-1")
    assert new.map_id == "planet-1" and new.epoch > lease.epoch
    assert t.history == [S.REQUESTED, S.TOKEN_ISSUED, S.DESTINATION_ACCEPTED,
                         S.SOURCE_RELEASED]


def test_timeout_after_release_returns_to_source_else_default(clock):
    healthy = set(MAPS)
    m = make_manager(clock, healthy)
    lease = m.place("c", "planet-1")
    t, token = m.request(character="c", character_id=1, from_map="planet-1",
                         to_map="planet-2")
    m.accept(token, map_id="planet-2")
    m.release(t.transfer_id, map_id="planet-1", epoch=lease.epoch)
    healthy.discard("planet-1")
    m.map_down("planet-1")
    clock.advance(5_000)
    [late] = m.expire()
    fb = late.fallback
    assert fb is not None and fb.map_id == DEFAULT and fb.reason is AbortReason.TIMEOUT
    assert fb.join_ticket and m.registry.holder("c") == fb.lease
    m.tokens.verify_join(fb.join_ticket, map_id=DEFAULT, character_id=1)


def test_quarantined_destination_fails_fast(clock):
    healthy = {"planet-0"}
    m = make_manager(clock, healthy)
    m.place("c", "planet-0")
    with pytest.raises(TransferError) as ei:
        m.request(character="c", character_id=1, from_map="planet-0", to_map="planet-1")
    assert ei.value.code is TransferRefusal.MAP_UNAVAILABLE


# --- stateful ------------------------------------------------------------------------


class TransferMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.healthy = set(MAPS)
        self.mgr = make_manager(self.clock, self.healthy)
        self.local: dict[str, dict[str, int]] = {m: {} for m in MAPS}
        self.tokens: dict[str, str] = {}
        self.mgr.at_rest.add(CHARS[-1])
        for c, m in zip(CHARS[:-1], MAPS, strict=False):
            self.local[m][c] = self.mgr.place(c, m).epoch

    # helpers
    def _ids(self) -> list[str]:
        return list(self.mgr.transfers)

    def _apply_fallback(self, character: str, fb: Fallback | None) -> None:
        assert fb is not None
        if fb.lease is not None:
            assert fb.map_id == fb.lease.map_id and fb.map_id in self.healthy
            self.local[fb.lease.map_id][character] = fb.lease.epoch
        else:
            assert character in self.mgr.at_rest

    def _apply_new_aborts(self, before: set[str]) -> None:
        for tid in before:
            t = self.mgr.transfers[tid]
            if t.state is S.ABORTED:
                self._apply_fallback(t.character, t.fallback)

    def _active(self) -> set[str]:
        return {k for k, t in self.mgr.transfers.items() if t.active}

    # rules
    @rule(i=st.integers(0, 50), m=st.sampled_from(MAPS))
    def join(self, i: int, m: str) -> None:
        pool = sorted(self.mgr.at_rest) or list(CHARS)
        c = pool[i % len(pool)]
        if m not in self.healthy:
            return
        try:
            lease = self.mgr.place(c, m)
        except TransferError as e:
            assert e.code in (TransferRefusal.ALREADY_HELD, TransferRefusal.IN_PROGRESS)
            return
        self.local[m][c] = lease.epoch

    @rule(c=st.sampled_from(CHARS))
    def leave(self, c: str) -> None:
        lease = self.mgr.registry.holder(c)
        if lease is None:
            return
        try:
            self.mgr.leave(c, lease.map_id, lease.epoch)
        except TransferError as e:
            assert e.code is TransferRefusal.IN_PROGRESS
            return
        del self.local[lease.map_id][c]

    @rule(i=st.integers(0, 50), to=st.sampled_from(MAPS), any_char=st.booleans())
    def request(self, i: int, to: str, any_char: bool) -> None:
        held = [c for c in CHARS if self.mgr.registry.holder(c) is not None
                and self.mgr.active_for(c) is None]
        pool = held if held and not any_char else list(CHARS)
        c = pool[i % len(pool)]
        lease = self.mgr.registry.holder(c)
        src = lease.map_id if lease else "planet-1"
        try:
            t, token = self.mgr.request(character=c, character_id=None, from_map=src,
                                        to_map=to)
        except TransferError:
            return
        self.tokens[t.transfer_id] = token

    @rule(i=st.integers(0, 50), to=st.sampled_from(MAPS))
    def whole_transfer(self, i: int, to: str) -> None:
        """Every step at once (puts completed transfers into the mix)."""
        before = len(self.tokens)
        self.request(i, to, False)
        if len(self.tokens) == before:
            return
        tid = list(self.tokens)[-1]
        t = self.mgr.transfers[tid]
        self.mgr.accept(self.tokens[tid], map_id=t.to_map)
        self.mgr.release(tid, map_id=t.from_map, epoch=self.local[t.from_map].pop(t.character))
        self.local[t.to_map][t.character] = self.mgr.complete(tid, map_id=t.to_map).epoch
        assert t.state is S.COMPLETED

    @precondition(lambda self: self.tokens)
    @rule(i=st.integers(0, 50), where=st.sampled_from(MAPS), again=st.booleans())
    def present_token(self, i: int, where: str, again: bool) -> None:
        fresh = [k for k in self.tokens if self.mgr.transfers[k].state is S.TOKEN_ISSUED]
        pool = fresh if fresh and not again else list(self.tokens)
        tid = pool[i % len(pool)]
        t = self.mgr.transfers[tid]
        to = t.to_map if not again else where
        if to not in self.healthy:
            return
        try:
            self.mgr.accept(self.tokens[tid], map_id=to)
        except TokenDenied as e:
            assert e.reason in (DenialReason.WRONG_TARGET, DenialReason.REPLAYED,
                                DenialReason.EXPIRED, DenialReason.TRANSFER_NOT_ACTIVE)
            return
        assert to == t.to_map and t.state is S.DESTINATION_ACCEPTED

    def _pick(self, i: int, state: TransferState) -> str:
        pool = [k for k, t in self.mgr.transfers.items() if t.state is state] or self._ids()
        return pool[i % len(pool)]

    @precondition(lambda self: self.mgr.transfers)
    @rule(i=st.integers(0, 50), stale=st.booleans())
    def source_releases(self, i: int, stale: bool) -> None:
        t = self.mgr.transfers[self._pick(i, S.DESTINATION_ACCEPTED)]
        epoch = self.local[t.from_map].get(t.character)
        if epoch is None:  # the source process does not simulate it (any more)
            return
        try:
            self.mgr.release(t.transfer_id, map_id=t.from_map, epoch=epoch - stale)
        except TransferError:
            return
        assert not stale
        del self.local[t.from_map][t.character]

    @precondition(lambda self: self.mgr.transfers)
    @rule(i=st.integers(0, 50))
    def destination_completes(self, i: int) -> None:
        t = self.mgr.transfers[self._pick(i, S.SOURCE_RELEASED)]
        if t.to_map not in self.healthy:
            return
        try:
            lease = self.mgr.complete(t.transfer_id, map_id=t.to_map)
        except TransferError:
            return
        self.local[t.to_map][t.character] = lease.epoch

    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 50))
    def someone_gives_up(self, i: int) -> None:
        active = [k for k, t in self.mgr.transfers.items() if t.active]  # insertion order
        tid = active[i % len(active)]
        fb = self.mgr.abort(tid, AbortReason.DESTINATION_REJECTED)
        self._apply_fallback(self.mgr.transfers[tid].character, fb)

    @rule(ms=st.sampled_from([100, 2_000, 5_000, 10_000]))
    def time_passes(self, ms: int) -> None:
        before = self._active()
        self.clock.advance(ms)
        self.mgr.expire()
        self._apply_new_aborts(before)

    @rule(m=st.sampled_from(MAPS))
    def crash(self, m: str) -> None:
        if m not in self.healthy:
            return
        before = self._active()
        self.healthy.discard(m)
        self.local[m].clear()  # the process is gone
        self.mgr.map_down(m)
        self._apply_new_aborts(before)

    @rule(m=st.sampled_from(MAPS))
    def restart(self, m: str) -> None:
        self.healthy.add(m)

    # invariants
    @invariant()
    def at_most_one_authority(self) -> None:
        for c in CHARS:
            simulating = [m for m in MAPS if c in self.local[m]]
            assert len(simulating) <= 1, (c, simulating)

    @invariant()
    def processes_agree_with_leases(self) -> None:
        for c in CHARS:
            lease = self.mgr.registry.holder(c)
            local = {m: self.local[m][c] for m in MAPS if c in self.local[m]}
            assert local == ({} if lease is None else {lease.map_id: lease.epoch})
            if lease is not None:
                assert lease.map_id in self.healthy

    @invariant()
    def no_character_lost(self) -> None:
        for c in CHARS:
            held = self.mgr.registry.holder(c) is not None
            t = self.mgr.active_for(c)
            in_flight = t is not None and t.state is S.SOURCE_RELEASED
            at_rest = c in self.mgr.at_rest
            assert held + in_flight + at_rest == 1, (c, held, in_flight, at_rest)
            if t is not None:
                lease = self.mgr.registry.holder(c)
                if t.state is S.SOURCE_RELEASED:
                    assert lease is None
                else:
                    assert lease == Lease(t.from_map, t.source_epoch)
                assert t.deadline_ms <= self.clock.now + self.mgr.timeout_ms

    def teardown(self) -> None:
        before = self._active()
        self.clock.advance(self.mgr.timeout_ms)
        self.mgr.expire()
        self._apply_new_aborts(before)
        assert not self._active()
        self.no_character_lost()
        self.processes_agree_with_leases()


TransferMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_transfer_state_machine = TransferMachine.TestCase


def test_disposable_sessions_end_instead_of_resting(clock):
    healthy = set(MAPS)
    m = make_manager(clock, healthy)
    lease = m.place("session:" + "ab" * 16, "planet-0")
    m.place("persistent", "planet-0")
    m.leave("session:" + "ab" * 16, "planet-0", lease.epoch)
    healthy.discard("planet-0")
    m.map_down("planet-0")
    assert m.at_rest == {"persistent"} and len(m.registry) == 0
