"""Protocol errors and the codes they map to.

Exception tree::

    ProtocolError                  base of everything this package raises
    ├── LocalProtocolError         *we* broke the protocol (a bug on this side): sending a
    │                              message that is illegal in the current state or direction
    └── RemoteProtocolError        the *peer* broke it; carries ``code`` (an :class:`ErrorCode`,
        │                          which is also the WebSocket close code) and ``reason``
        ├── MalformedMessageError    truncated frame, trailing bytes, bad UTF-8, bad lengths
        ├── UnknownOpcodeError       the first byte is not an :class:`~.opcodes.Opcode`
        ├── UnexpectedMessageError   legal opcode, but not in this session state / direction
        ├── UnsupportedVersionError  no protocol version both sides speak
        ├── InvalidValueError        a field is out of range, NaN or infinite
        └── FrameTooLargeError       larger than the negotiated maximum frame size

Codes ``4000..4099`` are fatal: the sender of the ``ERROR`` frame closes the WebSocket with
the same code. Codes ``4100..4199`` are non-fatal notices; the session stays open. Standard
WebSocket codes (``1000``, ``1001``, ``1003``, ``1009``, ``1011``) keep their RFC 6455 meaning.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ErrorCode(IntEnum):
    """Error codes of ``ERROR`` / ``GOODBYE`` frames and WebSocket close codes (u16)."""

    NORMAL = 1000  #: orderly goodbye
    GOING_AWAY = 1001  #: server shutting down / client leaving
    UNSUPPORTED_DATA = 1003  #: a text frame (only binary frames are protocol frames)
    MESSAGE_TOO_BIG = 1009  #: frame larger than the maximum frame size
    INTERNAL_ERROR = 1011  #: the server failed; not the client's fault
    # ---- fatal protocol errors (close code = error code) ----
    MALFORMED_MESSAGE = 4000
    UNKNOWN_OPCODE = 4001
    UNEXPECTED_MESSAGE = 4002
    UNSUPPORTED_VERSION = 4003
    INVALID_VALUE = 4004
    RATE_LIMITED = 4005  #: too many messages per second
    JOIN_REJECTED = 4006
    SERVER_FULL = 4007
    HANDSHAKE_TIMEOUT = 4008
    SLOW_CONSUMER = 4009  #: the client does not read its frames fast enough
    #: v3: a join ticket / transfer token was refused (reason ``"<REASON>: <detail>;
    #: re-bootstrap: POST /orch/bootstrap"``)
    TICKET_DENIED = 4010
    # ---- non-fatal notices ----
    CHUNK_OUT_OF_RANGE = 4100  #: subscription refused: outside the planet or the view radius
    TOO_MANY_SUBSCRIPTIONS = 4101
    TRANSFORM_REJECTED = 4102  #: the world refused a transform (context = RejectReason)
    #: v3: a TRANSFER_REQUEST was refused; the session stays on its map (context 0)
    TRANSFER_REFUSED = 4103

    @property
    def fatal(self) -> bool:
        """True when the session ends after this error."""
        return self < 4100


class ProtocolError(Exception):
    """Base class of every protocol error."""


class LocalProtocolError(ProtocolError):
    """This side tried to do something the protocol forbids (a bug here, not in the peer)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids.

    Attributes:
        code: the :class:`ErrorCode` to report and close with.
        reason: human-readable explanation, at most 512 UTF-8 bytes once sent.
    """

    default_code: ClassVar[ErrorCode] = ErrorCode.MALFORMED_MESSAGE

    def __init__(self, reason: str, code: ErrorCode | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code if code is not None else self.default_code


class MalformedMessageError(RemoteProtocolError):
    """Truncated frame, trailing bytes, invalid UTF-8, or an impossible length field."""

    default_code = ErrorCode.MALFORMED_MESSAGE


class UnknownOpcodeError(RemoteProtocolError):
    """The opcode byte names no message."""

    default_code = ErrorCode.UNKNOWN_OPCODE


class UnexpectedMessageError(RemoteProtocolError):
    """A known message that is illegal in the session's state or in this direction."""

    default_code = ErrorCode.UNEXPECTED_MESSAGE


class UnsupportedVersionError(RemoteProtocolError):
    """The peer's version range does not overlap ours."""

    default_code = ErrorCode.UNSUPPORTED_VERSION


class InvalidValueError(RemoteProtocolError):
    """A field value is out of range, NaN or infinite."""

    default_code = ErrorCode.INVALID_VALUE


class FrameTooLargeError(RemoteProtocolError):
    """A frame exceeds the maximum frame size."""

    default_code = ErrorCode.MESSAGE_TOO_BIG
