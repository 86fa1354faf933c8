"""The transfer state machine and the authority registry (seed 004, "Transfer state
machine invariants").

Hard invariant: a character is authoritative in at most one map process at a time. The
orchestrator holds the truth as *leases* (:class:`AuthorityRegistry`): a map simulates a
character only while it holds that character's lease, and every lease carries a fencing
``epoch`` (strictly increasing over the host's lifetime) that the map quotes when it
releases the character or pushes its state; a stale epoch is refused, so a map that lost
its lease (crash, hang, restart) can never write over the new holder.

Every character is in exactly one of three places:

* **held**: a map holds its lease (possibly while a transfer is in flight before the
  source released it);
* **in flight**: a transfer in ``source_released`` (no lease; it will complete at the
  destination or abort to a healthy map before its deadline);
* **at rest**: in no map; its state is in the ledger (left, or its map went down). The
  next bootstrap places it again. Disposable sessions (``session:...``) are not kept at
  rest: they simply end (seed: they need not persist).

Transitions (the only ones allowed; anything else raises ``ILLEGAL_TRANSITION``):

==========================  ============================================  ===========
from                        to                                            by
==========================  ============================================  ===========
(new)                       ``requested``                                 source map
``requested``               ``token_issued``, ``aborted``                 orchestrator
``token_issued``            ``destination_accepted``, ``aborted``         destination
``destination_accepted``    ``source_released``, ``aborted``              source
``source_released``         ``completed``, ``aborted``                    destination
``completed``/``aborted``   (terminal)
==========================  ============================================  ===========

Failure policy (seed 004, "Failure Handling"): on abort the character returns to the
source if the source still holds it (nothing moves) or, after release, to the source if
it is available, else to the default map if available, else it comes to rest. The
fallback map gets the lease at once and the client gets a fresh join ticket to it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from .tokens import DISPOSABLE_PREFIX, TokenService, TransferToken, now_ms


class TransferState(StrEnum):
    REQUESTED = "requested"
    TOKEN_ISSUED = "token_issued"
    DESTINATION_ACCEPTED = "destination_accepted"
    SOURCE_RELEASED = "source_released"
    COMPLETED = "completed"
    ABORTED = "aborted"


S = TransferState
TRANSITIONS: dict[TransferState, frozenset[TransferState]] = {
    S.REQUESTED: frozenset({S.TOKEN_ISSUED, S.ABORTED}),
    S.TOKEN_ISSUED: frozenset({S.DESTINATION_ACCEPTED, S.ABORTED}),
    S.DESTINATION_ACCEPTED: frozenset({S.SOURCE_RELEASED, S.ABORTED}),
    S.SOURCE_RELEASED: frozenset({S.COMPLETED, S.ABORTED}),
    S.COMPLETED: frozenset(),
    S.ABORTED: frozenset(),
}
TERMINAL: frozenset[TransferState] = frozenset({S.COMPLETED, S.ABORTED})


class AbortReason(StrEnum):
    TIMEOUT = "TIMEOUT"
    DESTINATION_DOWN = "DESTINATION_DOWN"
    SOURCE_DOWN = "SOURCE_DOWN"
    DESTINATION_REJECTED = "DESTINATION_REJECTED"
    CANCELLED = "CANCELLED"


class TransferRefusal(StrEnum):
    NOT_AUTHORITATIVE = "NOT_AUTHORITATIVE"
    IN_PROGRESS = "IN_PROGRESS"
    SAME_MAP = "SAME_MAP"
    MAP_UNAVAILABLE = "MAP_UNAVAILABLE"
    UNKNOWN_TRANSFER = "UNKNOWN_TRANSFER"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    WRONG_MAP = "WRONG_MAP"
    STALE_EPOCH = "STALE_EPOCH"
    ALREADY_HELD = "ALREADY_HELD"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"


class TransferError(Exception):
    """A refused transfer step: ``code`` and a human ``detail``."""

    def __init__(self, code: TransferRefusal, detail: str = "") -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail

    def to_json(self) -> dict[str, str]:
        return {"error": "transfer_refused", "reason": self.code.value, "detail": self.detail}


# --- authority -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lease:
    """``map_id`` is authoritative for the character since fencing ``epoch``."""

    map_id: str
    epoch: int


class AuthorityRegistry:
    """character -> :class:`Lease`; at most one lease per character by construction."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._epoch = 0

    def holder(self, character: str) -> Lease | None:
        return self._leases.get(character)

    def held_by(self, map_id: str) -> list[str]:
        return sorted(c for c, lease in self._leases.items() if lease.map_id == map_id)

    def acquire(self, character: str, map_id: str) -> Lease:
        """Give ``map_id`` the lease (idempotent for the current holder).

        Raises:
            TransferError: ALREADY_HELD when another map holds it.
        """
        cur = self._leases.get(character)
        if cur is not None:
            if cur.map_id == map_id:
                return cur
            raise TransferError(TransferRefusal.ALREADY_HELD, f"held by {cur.map_id}")
        self._epoch += 1
        lease = Lease(map_id, self._epoch)
        self._leases[character] = lease
        return lease

    def check(self, character: str, map_id: str, epoch: int) -> bool:
        """Fencing: does ``map_id`` hold the character's lease with ``epoch``?"""
        return self._leases.get(character) == Lease(map_id, epoch)

    def release(self, character: str, map_id: str, epoch: int) -> None:
        """Drop the lease; the caller must quote the current holder and epoch.

        Raises:
            TransferError: STALE_EPOCH otherwise.
        """
        if not self.check(character, map_id, epoch):
            raise TransferError(TransferRefusal.STALE_EPOCH,
                                f"{map_id}@{epoch} does not hold the lease")
        del self._leases[character]

    def revoke_map(self, map_id: str) -> list[str]:
        """Drop every lease of ``map_id`` (its process is gone); the characters."""
        gone = self.held_by(map_id)
        for c in gone:
            del self._leases[c]
        return gone

    def __len__(self) -> int:
        return len(self._leases)


# --- transfers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fallback:
    """Where an aborted transfer sent the character (``map_id`` None: at rest)."""

    map_id: str | None
    lease: Lease | None
    join_ticket: str | None
    reason: AbortReason


@dataclass(slots=True)
class Transfer:
    transfer_id: str
    character: str
    character_id: int | None
    from_map: str
    to_map: str
    source_epoch: int
    created_ms: int
    deadline_ms: int
    state: TransferState = TransferState.REQUESTED
    token: TransferToken | None = None
    dest_lease: Lease | None = None
    fallback: Fallback | None = None
    history: list[TransferState] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state not in TERMINAL


class TransferManager:
    """Runs transfers against an :class:`AuthorityRegistry` (single-threaded: call it
    from the orchestrator's event loop only).

    Args:
        registry: the leases.
        tokens: mints transfer tokens and fallback join tickets, verifies tokens.
        default_map_id: the last-resort fallback.
        is_available: does a map accept joins/transfers now (healthy, not quarantined)?
        timeout_ms: a transfer not terminal after this aborts with TIMEOUT (:meth:`expire`).
        on_transition: called after every state change (the ledger records commit points).
    """

    def __init__(self, registry: AuthorityRegistry, tokens: TokenService, *,
                 default_map_id: str, is_available: Callable[[str], bool],
                 timeout_ms: int = 15_000, clock_ms: Callable[[], int] = now_ms,
                 on_transition: Callable[[Transfer], None] | None = None) -> None:
        self.registry = registry
        self.tokens = tokens
        self.default_map_id = default_map_id
        self.is_available = is_available
        self.timeout_ms = timeout_ms
        self.clock_ms = clock_ms
        self.on_transition = on_transition
        self.transfers: dict[str, Transfer] = {}
        self.active_by_character: dict[str, str] = {}
        self.at_rest: set[str] = set()

    # ---- helpers --------------------------------------------------------------------
    def _move(self, t: Transfer, to: TransferState) -> None:
        if to not in TRANSITIONS[t.state]:
            raise TransferError(TransferRefusal.ILLEGAL_TRANSITION, f"{t.state} -> {to}")
        t.history.append(t.state)
        t.state = to
        if to in TERMINAL:
            self.active_by_character.pop(t.character, None)
        if self.on_transition is not None:
            self.on_transition(t)

    def _rest(self, character: str) -> None:
        if not character.startswith(DISPOSABLE_PREFIX):
            self.at_rest.add(character)

    def get(self, transfer_id: str) -> Transfer:
        t = self.transfers.get(transfer_id)
        if t is None:
            raise TransferError(TransferRefusal.UNKNOWN_TRANSFER, transfer_id)
        return t

    def active_for(self, character: str) -> Transfer | None:
        tid = self.active_by_character.get(character)
        return None if tid is None else self.transfers[tid]

    # ---- joins and leaves (outside transfers) ---------------------------------------
    def place(self, character: str, map_id: str) -> Lease:
        """A client redeemed a join ticket at ``map_id``: give that map the lease.

        Raises:
            TransferError: ALREADY_HELD (another map holds it) or IN_PROGRESS.
        """
        if character in self.active_by_character:
            raise TransferError(TransferRefusal.IN_PROGRESS, "character is being transferred")
        lease = self.registry.acquire(character, map_id)
        self.at_rest.discard(character)
        return lease

    def leave(self, character: str, map_id: str, epoch: int) -> None:
        """The player left ``map_id`` (its state was pushed): the character comes to rest."""
        if character in self.active_by_character:
            raise TransferError(TransferRefusal.IN_PROGRESS, "character is being transferred")
        self.registry.release(character, map_id, epoch)
        self._rest(character)

    # ---- the transfer steps ---------------------------------------------------------
    def request(self, *, character: str, character_id: int | None, from_map: str,
                to_map: str) -> tuple[Transfer, str]:
        """Source asks to move ``character`` to ``to_map``: ``requested`` -> ``token_issued``.

        Returns the transfer and the token to hand to the client.
        """
        if from_map == to_map:
            raise TransferError(TransferRefusal.SAME_MAP, from_map)
        lease = self.registry.holder(character)
        if lease is None or lease.map_id != from_map:
            raise TransferError(TransferRefusal.NOT_AUTHORITATIVE,
                                f"{from_map} does not hold the character")
        if character in self.active_by_character:
            raise TransferError(TransferRefusal.IN_PROGRESS, self.active_by_character[character])
        if not self.is_available(to_map):
            raise TransferError(TransferRefusal.MAP_UNAVAILABLE, to_map)
        now = self.clock_ms()
        t = Transfer(transfer_id=secrets.token_hex(8), character=character,
                     character_id=character_id, from_map=from_map, to_map=to_map,
                     source_epoch=lease.epoch, created_ms=now,
                     deadline_ms=now + self.timeout_ms)
        self.transfers[t.transfer_id] = t
        self.active_by_character[character] = t.transfer_id
        if self.on_transition is not None:
            self.on_transition(t)
        claims, token = self.tokens.mint_transfer(
            transfer_id=t.transfer_id, auth_key_hash=character, character_id=character_id,
            from_map_id=from_map, to_map_id=to_map)
        t.token = claims
        self._move(t, S.TOKEN_ISSUED)
        return t, token

    def accept(self, token: str, *, map_id: str) -> Transfer:
        """Destination ``map_id`` got the client's token: ``destination_accepted``.

        Raises:
            TokenDenied: the token is refused (see tokens), or TRANSFER_NOT_ACTIVE.
        """
        from .tokens import DenialReason, TokenDenied

        claims = self.tokens.verify_transfer(token, map_id=map_id)
        t = self.transfers.get(claims.transfer_id)
        if t is None or t.state is not S.TOKEN_ISSUED:
            raise TokenDenied(DenialReason.TRANSFER_NOT_ACTIVE,
                              "transfer aborted or already accepted", self.tokens.rebootstrap)
        self._move(t, S.DESTINATION_ACCEPTED)
        return t

    def release(self, transfer_id: str, *, map_id: str, epoch: int) -> Transfer:
        """Source dropped the character: lease released, ``source_released``."""
        t = self.get(transfer_id)
        if map_id != t.from_map:
            raise TransferError(TransferRefusal.WRONG_MAP, "only the source releases")
        if t.state is not S.DESTINATION_ACCEPTED:
            raise TransferError(TransferRefusal.ILLEGAL_TRANSITION,
                                f"{t.state} -> {S.SOURCE_RELEASED}")
        self.registry.release(t.character, map_id, epoch)
        self._move(t, S.SOURCE_RELEASED)
        return t

    def complete(self, transfer_id: str, *, map_id: str) -> Lease:
        """Destination takes authority: lease acquired, ``completed``.

        Raises:
            TransferError: WRONG_MAP, ILLEGAL_TRANSITION, or MAP_UNAVAILABLE (the transfer
            is then aborted with its fallback).
        """
        t = self.get(transfer_id)
        if map_id != t.to_map:
            raise TransferError(TransferRefusal.WRONG_MAP, "only the destination completes")
        if t.state is not S.SOURCE_RELEASED:
            raise TransferError(TransferRefusal.ILLEGAL_TRANSITION,
                                f"{t.state} -> {S.COMPLETED}")
        if not self.is_available(map_id):
            self.abort(transfer_id, AbortReason.DESTINATION_DOWN)
            raise TransferError(TransferRefusal.MAP_UNAVAILABLE, map_id)
        lease = self.registry.acquire(t.character, map_id)
        t.dest_lease = lease
        self._move(t, S.COMPLETED)
        return lease

    def abort(self, transfer_id: str, reason: AbortReason) -> Fallback:
        """Abort with the failure policy of the module docstring; returns the fallback."""
        t = self.get(transfer_id)
        if not t.active:
            raise TransferError(TransferRefusal.ILLEGAL_TRANSITION, f"{t.state} -> aborted")
        lease = self.registry.holder(t.character)
        target: str | None
        if lease is not None:
            # Still held (by the source, before release): nothing moves.
            target = lease.map_id
        else:
            target = next((m for m in (t.from_map, self.default_map_id)
                           if self.is_available(m)), None)
            if target is not None:
                lease = self.registry.acquire(t.character, target)
        ticket = None
        if target is None:
            self._rest(t.character)
        elif self.is_available(target):
            _, ticket = self.tokens.mint_join(auth_key_hash=t.character,
                                              character_id=t.character_id,
                                              target_map_id=target)
        t.fallback = Fallback(target, lease, ticket, reason)
        self._move(t, S.ABORTED)
        return t.fallback

    def expire(self) -> list[Transfer]:
        """Abort every active transfer past its deadline (TIMEOUT)."""
        now = self.clock_ms()
        late = [t for t in self.transfers.values() if t.active and now >= t.deadline_ms]
        for t in late:
            self.abort(t.transfer_id, AbortReason.TIMEOUT)
        return late

    def map_down(self, map_id: str) -> list[str]:
        """``map_id``'s process is gone (killed, crashed): revoke its leases, abort the
        transfers it can no longer take part in. Returns the characters it held.

        Call after the supervisor marked the map unavailable.
        """
        held = self.registry.revoke_map(map_id)
        for c in held:
            if c not in self.active_by_character:
                self._rest(c)
        for t in list(self.transfers.values()):
            if not t.active:
                continue
            if t.to_map == map_id:
                self.abort(t.transfer_id, AbortReason.DESTINATION_DOWN)
            elif t.from_map == map_id and t.state is not S.SOURCE_RELEASED:
                self.abort(t.transfer_id, AbortReason.SOURCE_DOWN)
        return held

    def forget_finished(self, older_than_ms: int) -> int:
        """Drop terminal transfers created before ``older_than_ms`` (memory bound)."""
        dead = [k for k, t in self.transfers.items()
                if not t.active and t.created_ms < older_than_ms]
        for k in dead:
            del self.transfers[k]
        return len(dead)
