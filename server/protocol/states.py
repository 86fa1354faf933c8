"""The session state table: which message is legal in which state, and where it leads.

Every rule of the session lives in this module (h11 ``_state.py`` style). A frame whose
opcode is not in the table for the current state and direction is a protocol error
(:class:`~.errors.UnexpectedMessageError`, close code 4002), never silently ignored.

States (the same on both sides of the connection)::

    AWAIT_HELLO --HELLO/WELCOME--> AWAIT_JOIN --JOIN/JOIN_ACCEPTED--> JOINED
         |                             |                                |
         +----- GOODBYE or fatal ERROR or a protocol error -----------> CLOSED

The server moves to AWAIT_JOIN when it *sends* WELCOME and to JOINED when it *sends*
JOIN_ACCEPTED; the client moves when it *receives* them. The client may send JOIN right
after HELLO without waiting (pipelining), so the server's AWAIT_HELLO accepts only HELLO but
its AWAIT_JOIN accepts JOIN.

Protocol version 3: JOIN_WITH_TICKET is legal wherever JOIN is (and leads to JOINED the same
way, through JOIN_ACCEPTED), TRANSFER_REQUEST (client to server) and TRANSFER_TO (server to
client) in JOINED. These three also need the negotiated version to be at least
:data:`~.opcodes.MIN_VERSION_OF` (:func:`version_allows`); the connection classes check it on
top of this table. After TRANSFER_TO the server says GOODBYE 1000 and the session is CLOSED.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from .opcodes import MIN_VERSION_OF, Opcode


class SessionState(Enum):
    """Where a session is in its lifecycle."""

    AWAIT_HELLO = "await_hello"
    AWAIT_JOIN = "await_join"
    JOINED = "joined"
    CLOSED = "closed"


class Role(Enum):
    """Which end of the connection a state machine runs on."""

    SERVER = "server"
    CLIENT = "client"


S = SessionState
O = Opcode  # noqa: E741 - short alias keeps the table readable

#: (role, state) -> opcodes that side may RECEIVE in that state.
RECEIVE: Final[dict[tuple[Role, SessionState], frozenset[Opcode]]] = {
    (Role.SERVER, S.AWAIT_HELLO): frozenset({O.HELLO, O.GOODBYE}),
    (Role.SERVER, S.AWAIT_JOIN): frozenset({O.JOIN, O.JOIN_WITH_TICKET, O.PING, O.GOODBYE}),
    (Role.SERVER, S.JOINED): frozenset({
        O.CHUNK_SUBSCRIBE, O.CHUNK_UNSUBSCRIBE, O.EDIT_REQUEST, O.PLAYER_TRANSFORM, O.PING,
        O.GOODBYE, O.TRANSFER_REQUEST,
    }),
    (Role.SERVER, S.CLOSED): frozenset(),
    (Role.CLIENT, S.AWAIT_HELLO): frozenset({O.WELCOME, O.ERROR, O.GOODBYE}),
    (Role.CLIENT, S.AWAIT_JOIN): frozenset({O.JOIN_ACCEPTED, O.PONG, O.ERROR, O.GOODBYE}),
    (Role.CLIENT, S.JOINED): frozenset({
        O.CHUNK_STATE, O.TERRAIN_DELTA, O.EDIT_RESULT, O.PLAYER_STATES, O.PLAYER_LEFT, O.PONG,
        O.ERROR, O.GOODBYE, O.TRANSFER_TO,
    }),
    (Role.CLIENT, S.CLOSED): frozenset(),
}

#: (role, state) -> opcodes that side may SEND in that state (the client may pipeline JOIN
#: or JOIN_WITH_TICKET).
SEND: Final[dict[tuple[Role, SessionState], frozenset[Opcode]]] = {
    (Role.SERVER, S.AWAIT_HELLO): frozenset({O.WELCOME, O.ERROR, O.GOODBYE}),
    (Role.SERVER, S.AWAIT_JOIN): frozenset({O.JOIN_ACCEPTED, O.PONG, O.ERROR, O.GOODBYE}),
    (Role.SERVER, S.JOINED): RECEIVE[(Role.CLIENT, S.JOINED)],
    (Role.SERVER, S.CLOSED): frozenset(),
    (Role.CLIENT, S.AWAIT_HELLO): frozenset({O.HELLO, O.JOIN, O.JOIN_WITH_TICKET, O.GOODBYE}),
    (Role.CLIENT, S.AWAIT_JOIN): frozenset({O.JOIN, O.JOIN_WITH_TICKET, O.PING, O.GOODBYE}),
    (Role.CLIENT, S.JOINED): RECEIVE[(Role.SERVER, S.JOINED)],
    (Role.CLIENT, S.CLOSED): frozenset(),
}

#: (role, state, opcode sent or received) -> next state. Pairs not listed keep the state.
#: A fatal ERROR and GOODBYE always lead to CLOSED (handled by the connection classes).
TRANSITIONS: Final[dict[tuple[Role, SessionState, Opcode], SessionState]] = {
    (Role.SERVER, S.AWAIT_HELLO, O.WELCOME): S.AWAIT_JOIN,  # sent
    (Role.SERVER, S.AWAIT_JOIN, O.JOIN_ACCEPTED): S.JOINED,  # sent
    (Role.CLIENT, S.AWAIT_HELLO, O.WELCOME): S.AWAIT_JOIN,  # received
    (Role.CLIENT, S.AWAIT_JOIN, O.JOIN_ACCEPTED): S.JOINED,  # received
}


def may_receive(role: Role, state: SessionState, opcode: Opcode) -> bool:
    """True if ``role`` may receive ``opcode`` while in ``state``."""
    return opcode in RECEIVE[(role, state)]


def may_send(role: Role, state: SessionState, opcode: Opcode) -> bool:
    """True if ``role`` may send ``opcode`` while in ``state``."""
    return opcode in SEND[(role, state)]


def version_allows(version: int | None, opcode: Opcode) -> bool:
    """True if a session that negotiated ``version`` may carry ``opcode`` (``None``: not
    negotiated yet, e.g. a client that pipelines JOIN_WITH_TICKET before WELCOME; the caller
    then checks the version it offered)."""
    return version is None or version >= MIN_VERSION_OF.get(opcode, 1)


def next_state(role: Role, state: SessionState, opcode: Opcode) -> SessionState:
    """State after ``role`` sends or receives ``opcode`` in ``state`` (GOODBYE closes)."""
    if opcode is O.GOODBYE:
        return S.CLOSED
    return TRANSITIONS.get((role, state, opcode), state)
