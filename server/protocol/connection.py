"""Sans-I/O session state machines: bytes in, events out, frames to send.

:class:`ServerConnection` and :class:`ClientConnection` know nothing about sockets or
asyncio (python-websockets ``protocol.py`` style). The I/O layer feeds each received
binary WebSocket message to :meth:`Connection.receive_data` (text messages to
:meth:`Connection.receive_text`), handles :meth:`Connection.events_received`, writes every
frame of :meth:`Connection.data_to_send`, and once :attr:`Connection.close_code` is set,
closes the WebSocket with that code and :attr:`Connection.close_reason`.

Events are the decoded :class:`~.messages.Message` objects, plus :class:`ProtocolViolation`
when the peer broke the protocol (the connection has then already queued an ``ERROR``
frame (server) or ``GOODBYE`` frame (client) and moved to ``CLOSED``) and
:class:`SessionClosed` when the peer said goodbye or sent a fatal error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codec import decode, encode, peek_opcode
from .errors import (
    ErrorCode,
    FrameTooLargeError,
    LocalProtocolError,
    RemoteProtocolError,
    UnexpectedMessageError,
    UnsupportedVersionError,
)
from .messages import MAX_REASON_BYTES, Error, Goodbye, Hello, Message, Welcome
from .opcodes import (
    CLIENT_TO_SERVER,
    MIN_PROTOCOL_VERSION,
    MIN_VERSION_OF,
    PROTOCOL_VERSION,
    SERVER_TO_CLIENT,
    Opcode,
)
from .states import Role, SessionState, may_receive, may_send, next_state, version_allows


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """Event: the peer broke the protocol; the session is closed with ``code``."""

    code: ErrorCode
    reason: str


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """Event: the peer ended the session (GOODBYE or a fatal ERROR) with ``code``."""

    code: int
    reason: str


Event = Message | ProtocolViolation | SessionClosed


def _clip(reason: str) -> str:
    b = reason.encode("utf-8")[:MAX_REASON_BYTES]
    return b.decode("utf-8", errors="ignore")


class Connection:
    """Common machinery of both ends; use :class:`ServerConnection` or
    :class:`ClientConnection`.

    Args:
        role: which end this is.
        max_frame_bytes: frames larger than this are rejected (code 1009).
    """

    role: Role
    #: newest protocol version this end speaks (set by the subclasses)
    max_version: int = PROTOCOL_VERSION

    def __init__(self, *, max_frame_bytes: int = 1 << 16) -> None:
        self.state = SessionState.AWAIT_HELLO
        self.max_frame_bytes = max_frame_bytes
        #: the negotiated protocol version (None until HELLO/WELCOME)
        self.version: int | None = None
        #: Set when the session is over: close the WebSocket with this code and reason.
        self.close_code: int | None = None
        self.close_reason = ""
        self._events: list[Event] = []
        self._out: list[bytes] = []
        self._incoming = CLIENT_TO_SERVER if self.role is Role.SERVER else SERVER_TO_CLIENT

    # ---- input --------------------------------------------------------------------------

    def receive_data(self, frame: bytes) -> None:
        """Feed one binary WebSocket message. Never raises for bad input: a violation
        becomes a :class:`ProtocolViolation` event and closes the session."""
        if self.state is SessionState.CLOSED:
            return
        try:
            if len(frame) > self.max_frame_bytes:
                raise FrameTooLargeError(
                    f"frame of {len(frame)} bytes exceeds {self.max_frame_bytes}")
            opcode = peek_opcode(frame)
            if opcode not in self._incoming:
                raise UnexpectedMessageError(
                    f"{opcode.name} is never sent to the {self.role.value}")
            if not self.version_allows(opcode):
                raise UnexpectedMessageError(
                    f"{opcode.name} needs protocol version {MIN_VERSION_OF[opcode]}")
            if not may_receive(self.role, self.state, opcode):
                raise UnexpectedMessageError(
                    f"{opcode.name} is not allowed in state {self.state.value}")
            msg = decode(frame)
            self._handle(msg)
        except RemoteProtocolError as e:
            self.fail(e.code, e.reason)

    def receive_text(self, text: str) -> None:
        """Feed one text WebSocket message: always a violation (protocol frames are binary)."""
        if self.state is not SessionState.CLOSED:
            self.fail(ErrorCode.UNSUPPORTED_DATA, "text frames are not supported; send binary")

    def _handle(self, msg: Message) -> None:
        self.state = next_state(self.role, self.state, msg.OPCODE)
        if isinstance(msg, Goodbye):
            self._closed(msg.code, msg.reason)
            self._events.append(SessionClosed(msg.code, msg.reason))
            return
        self._events.append(msg)

    # ---- output -------------------------------------------------------------------------

    def version_allows(self, opcode: Opcode) -> bool:
        """True if this session's protocol version carries ``opcode`` (the negotiated
        version, or before negotiation the newest this end offers)."""
        return version_allows(self.version if self.version is not None else self.max_version,
                              opcode)

    def send(self, msg: Message) -> None:
        """Queue ``msg`` for sending and apply its state transition.

        Raises:
            LocalProtocolError: ``msg`` is not legal for this role in the current state, or
                needs a newer protocol version than the session's (e.g. TRANSFER_TO to a
                session that negotiated version 2).
        """
        if not self.version_allows(msg.OPCODE):
            raise LocalProtocolError(
                f"{msg.OPCODE.name} needs protocol version {MIN_VERSION_OF[msg.OPCODE]}, "
                + (f"the session speaks {self.version}" if self.version is not None
                   else f"this end speaks at most {self.max_version}"))
        if not may_send(self.role, self.state, msg.OPCODE):
            raise LocalProtocolError(
                f"{self.role.value} may not send {msg.OPCODE.name} in state {self.state.value}")
        self._out.append(encode(msg))
        self.state = next_state(self.role, self.state, msg.OPCODE)
        if isinstance(msg, Goodbye):
            self._closed(msg.code, msg.reason)
        elif isinstance(msg, Error) and msg.code < 4100:
            self.state = SessionState.CLOSED
            self._closed(msg.code, msg.reason)

    def send_frame(self, frame: bytes, opcode_name: str) -> None:
        """Queue an already encoded frame (e.g. one shared by many sessions). The caller
        guarantees it encodes a message that is legal now; only the state is checked.

        Raises:
            LocalProtocolError: the session is not JOINED.
        """
        if self.state is not SessionState.JOINED:
            raise LocalProtocolError(f"cannot send {opcode_name} in state {self.state.value}")
        self._out.append(frame)

    def fail(self, code: ErrorCode, reason: str) -> None:
        """End the session because the peer misbehaved: queue ERROR (server) or GOODBYE
        (client) with ``code``, move to CLOSED, emit :class:`ProtocolViolation`."""
        if self.state is SessionState.CLOSED:
            return
        reason = _clip(reason)
        if self.role is Role.SERVER:
            self._out.append(encode(Error(int(code), reason)))
        else:
            self._out.append(encode(Goodbye(int(code), reason)))
        self.state = SessionState.CLOSED
        self._closed(int(code), reason)
        self._events.append(ProtocolViolation(code, reason))

    def close(self, code: int = ErrorCode.NORMAL, reason: str = "") -> None:
        """Say goodbye (no-op when already closed)."""
        if self.state is not SessionState.CLOSED:
            self.send(Goodbye(int(code), _clip(reason)))

    def _closed(self, code: int, reason: str) -> None:
        self.state = SessionState.CLOSED
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason

    def events_received(self) -> list[Event]:
        """Events since the last call, oldest first."""
        ev, self._events = self._events, []
        return ev

    def data_to_send(self) -> list[bytes]:
        """Frames to write since the last call, in order (each one binary message)."""
        out, self._out = self._out, []
        return out


class ServerConnection(Connection):
    """The server's end. Answers HELLO itself (version negotiation); the caller answers
    JOIN and JOIN_WITH_TICKET (v3) with :class:`~.messages.JoinAccepted` (or a fatal
    :class:`~.messages.Error`, e.g. 4010 TICKET_DENIED) and TRANSFER_REQUEST (v3) with
    :class:`~.messages.TransferTo` then GOODBYE 1000 (or the notice 4103 TRANSFER_REFUSED).
    The v3 messages are refused (4002) from a session that negotiated an older version,
    and sending TRANSFER_TO to one raises :class:`~.errors.LocalProtocolError`.

    Args:
        tick_rate_hz, server_name: reported in WELCOME.
        max_frame_bytes: largest frame accepted from the client, bytes.
        min_version, max_version: versions this server speaks.
    """

    role = Role.SERVER

    def __init__(self, *, tick_rate_hz: int = 20, server_name: str = "planet-server",
                 max_frame_bytes: int = 1 << 16, min_version: int = MIN_PROTOCOL_VERSION,
                 max_version: int = PROTOCOL_VERSION) -> None:
        super().__init__(max_frame_bytes=max_frame_bytes)
        self.tick_rate_hz = tick_rate_hz
        self.server_name = server_name
        self.min_version = min_version
        self.max_version = max_version

    def _handle(self, msg: Message) -> None:
        if isinstance(msg, Hello):
            version = min(msg.max_version, self.max_version)
            if version < max(msg.min_version, self.min_version):
                raise UnsupportedVersionError(
                    f"client speaks versions {msg.min_version}..{msg.max_version}, "
                    f"server {self.min_version}..{self.max_version}")
            self.version = version
            self.send(Welcome(version, self.min_version, self.tick_rate_hz,
                              self.max_frame_bytes, self.server_name))
        super()._handle(msg)


class ClientConnection(Connection):
    """The client's end. Call ``send(Hello(...))`` first (:meth:`hello` does it), then
    ``send(Join(...))`` or ``send(JoinWithTicket(...))`` (allowed before WELCOME arrives;
    the ticket needs ``max_version >= 3`` and, once WELCOME came, a session of version 3).

    Args:
        max_frame_bytes: largest frame accepted from the server, bytes.
    """

    role = Role.CLIENT

    def __init__(self, *, max_frame_bytes: int = 1 << 24, min_version: int = MIN_PROTOCOL_VERSION,
                 max_version: int = PROTOCOL_VERSION) -> None:
        super().__init__(max_frame_bytes=max_frame_bytes)
        self.min_version = min_version
        self.max_version = max_version

    def hello(self, client_name: str = "") -> None:
        """Queue HELLO with this client's version range."""
        self.send(Hello(self.max_version, self.min_version, client_name))

    def _handle(self, msg: Message) -> None:
        if isinstance(msg, Welcome):
            if not self.min_version <= msg.version <= self.max_version:
                raise UnsupportedVersionError(
                    f"server chose version {msg.version}, client speaks "
                    f"{self.min_version}..{self.max_version}")
            self.version = msg.version
        if isinstance(msg, Error) and msg.code < 4100:
            self.state = SessionState.CLOSED
            self._closed(msg.code, msg.reason)
            self._events.append(msg)
            self._events.append(SessionClosed(msg.code, msg.reason))
            return
        super()._handle(msg)
