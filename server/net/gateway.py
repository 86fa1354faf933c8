"""The game server's link to the orchestrator (seed 004), as an interface.

A :class:`~server.net.server.GameServer` run by ``planet-server serve --single`` has no
gateway: JOIN carries the auth key and the world's own store persists. A map process
(``planet-server map``, started by the orchestrator) gives it a :class:`MapGateway`:

* JOIN_WITH_TICKET -> :meth:`MapGateway.admit` redeems the JoinTicket or TransferToken at
  the orchestrator (which answers with the character's identity, lease epoch and newest
  state), then :meth:`MapGateway.admitted` once the player is in the world (a transfer
  completes there);
* an accepted edit that moved soil -> :meth:`MapGateway.soil_changed`, a critical event
  that is durable when it returns, before EDIT_RESULT is sent;
* TRANSFER_REQUEST -> :meth:`MapGateway.request_transfer` (a TransferToken for the client);
* a player leaving -> :meth:`MapGateway.left`.

The implementation lives in :mod:`server.mapproc.gateway`; this module has no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from server.world.records import CharacterRecord


class TicketRefused(Exception):  # noqa: N818 - a refusal, not a bug
    """The ticket or token was not honoured. ``reason``: EXPIRED, REPLAYED,
    BAD_SIGNATURE, WRONG_KIND, WRONG_TARGET, WRONG_CHARACTER, MALFORMED, UNAVAILABLE..."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TransferRefused(Exception):  # noqa: N818 - a refusal, not a bug
    """A transfer request the orchestrator refused (``reason`` e.g. QUARANTINED)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Admission:
    """Who the orchestrator let in, and with what.

    Attributes:
        character_key: the auth-key hash (or the disposable session identity).
        character_id: the persistent character id; None for a disposable session.
        epoch: the fencing epoch of this map's lease on the character.
        record: the character's saved state on this map (None: spawn fresh).
        canister_id_base: first canister id of a new persistent character.
        transfer_id: set when the player arrives by transfer.
        state: the character's state JSON as the orchestrator sent it (all maps).
    """

    character_key: str
    character_id: int | None
    epoch: int
    record: CharacterRecord | None
    canister_id_base: int | None = None
    transfer_id: str | None = None
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """Where the client goes: TRANSFER_TO's fields (``expires_in_ms`` in ms)."""

    transfer_id: str
    to_map_id: str
    endpoint: str
    token: str
    expires_in_ms: int


class MapGateway(Protocol):
    """What a map process's game server asks of the orchestrator (module docstring)."""

    #: The map id this process serves (``planet-<index>``).
    map_id: str

    async def admit(self, ticket: str) -> Admission:
        """Redeem a JoinTicket / TransferToken. Raises :class:`TicketRefused`."""
        ...

    async def admitted(self, adm: Admission, player_id: int) -> None:
        """The player is in the world (a transfer completes here; the epoch may change).
        Raises :class:`TicketRefused` when the orchestrator refuses the completion."""
        ...

    async def soil_changed(self, adm: Admission, record: CharacterRecord) -> None:
        """A critical event (the canisters after an accepted edit), durable on return.
        Raises ``OSError``/``RuntimeError`` subclasses when it could not be made durable."""
        ...

    async def request_transfer(self, adm: Admission, to_map_id: str) -> TransferOrder:
        """A TransferToken for ``to_map_id``. Raises :class:`TransferRefused`."""
        ...

    def left(self, adm: Admission, *, transferring: bool,
             record: CharacterRecord | None = None) -> None:
        """The player left this map (its state was just flushed). Not awaited.
        ``record``: its state at that moment when it leaves by transfer."""
        ...
