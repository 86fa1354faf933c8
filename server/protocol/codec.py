"""Binary codec: :func:`encode` a message to one frame, :func:`decode` a frame to a message.

Every frame is ``u8 opcode, u8 flags`` followed by the body; all multi-byte values are
little-endian. The layouts below are the contract with the Godot client (docs/protocol.md)::

    str        u16 n, n bytes UTF-8
    coord      i32 cx, i32 cy, i32 cz                                    (12 bytes)
    pose       f32 px, py, pz, f32 qx, qy, qz, qw                          (28 bytes)
    pose set   u8 flags (1 head, 2 left hand, 4 right hand), pose body,
               then one pose per set flag in the order head, left, right
    chunk      coord, u32 version, u8 encoding;
               encoding 1 (DELTA_ZSTD): u32 uncompressed_size, u32 n, n bytes zstd
               encoding 2 (INCREMENTAL_ZSTD, v2, TERRAIN_DELTA only): u32 base_version,
                   u32 uncompressed_size, u32 n, n bytes zstd (sparse delta, format 0)

Version 3 adds JOIN_WITH_TICKET (str ticket, str display_name), TRANSFER_REQUEST
(str to_map_id) and TRANSFER_TO (str to_map_id, str endpoint, str token, u32 expires_in_ms).

:func:`decode` raises only :class:`~.errors.RemoteProtocolError` subclasses, whatever bytes
it is given; :func:`encode` cannot fail on a constructed message (messages validate
themselves) except for :class:`~.errors.LocalProtocolError` on an unknown class.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, TypeVar

from .errors import (
    InvalidValueError,
    LocalProtocolError,
    MalformedMessageError,
    RemoteProtocolError,
    UnknownOpcodeError,
)
from .messages import (
    ChunkData,
    ChunkEncoding,
    ChunkState,
    ChunkSubscribe,
    ChunkUnsubscribe,
    Coord,
    EditRequest,
    EditResult,
    Error,
    Goodbye,
    Hello,
    Join,
    JoinAccepted,
    JoinWithTicket,
    Message,
    Ping,
    PlayerLeft,
    PlayerStates,
    PlayerTransform,
    Pong,
    Pose,
    PoseFlags,
    PoseSet,
    TerrainDelta,
    TransferRequest,
    TransferTo,
    Welcome,
)
from .opcodes import Opcode

HEADER: Final = struct.Struct("<BB")  # opcode, flags
HELLO: Final = struct.Struct("<HH")  # max_version, min_version (+ str client_name)
WELCOME: Final = struct.Struct("<HHHI")  # version, min_version, tick_rate_hz, max_frame_bytes
JOIN_ACCEPTED: Final = struct.Struct("<IIQHI3d4fHB")  # ids, seed, planet, tick, pos, rot, view, n
COORD: Final = struct.Struct("<iii")
COUNT16: Final = struct.Struct("<H")
U32: Final = struct.Struct("<I")
CHUNK_HEAD: Final = struct.Struct("<iiiIB")  # coord, version, encoding
CHUNK_PAYLOAD: Final = struct.Struct("<II")  # uncompressed_size, compressed n
CHUNK_BASE: Final = U32  # base_version of an INCREMENTAL_ZSTD entry
TICK_COUNT: Final = struct.Struct("<IH")  # tick, n
EDIT_REQUEST: Final = struct.Struct("<IB3df")  # seq, mode, centre, radius
EDIT_RESULT: Final = struct.Struct("<IBBiIH")  # seq, accepted, reason, soil_delta, total, n
CHUNK_VERSION: Final = struct.Struct("<iiiI")  # coord, version
POSE: Final = struct.Struct("<3f4f")
PLAYER_LEFT: Final = struct.Struct("<IB")
PING: Final = struct.Struct("<Id")
PONG: Final = struct.Struct("<IddI")
ERROR: Final = struct.Struct("<HI")  # code, context (+ str reason)
GOODBYE: Final = struct.Struct("<H")  # code (+ str reason)
# v3: JOIN_WITH_TICKET and TRANSFER_REQUEST are strings only; TRANSFER_TO ends with a u32
TRANSFER_TO_EXPIRY: Final = U32  # expires_in_ms (after str to_map_id, endpoint, token)

T = TypeVar("T")


class Reader:
    """Cursor over one frame; every read raises :class:`MalformedMessageError` past the end."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, st: struct.Struct) -> tuple[object, ...]:
        """Read one fixed-size struct."""
        if self.pos + st.size > len(self.data):
            raise MalformedMessageError(f"frame truncated at byte {self.pos} (need {st.size} more)")
        values = st.unpack_from(self.data, self.pos)
        self.pos += st.size
        return values

    def raw(self, n: int) -> bytes:
        """Read ``n`` bytes."""
        if self.pos + n > len(self.data):
            raise MalformedMessageError(f"frame truncated at byte {self.pos} (need {n} more)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def string(self) -> str:
        """Read a ``u16 n, n bytes UTF-8`` string (the message class checks its limit)."""
        (n,) = self.unpack(COUNT16)
        assert isinstance(n, int)
        try:
            return self.raw(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedMessageError(f"invalid UTF-8 in string at byte {self.pos - n}") from e

    def count(self) -> int:
        """Read a u16 element count."""
        (n,) = self.unpack(COUNT16)
        assert isinstance(n, int)
        return n

    def end(self) -> None:
        """Raise unless the whole frame was consumed."""
        if self.pos != len(self.data):
            raise MalformedMessageError(f"{len(self.data) - self.pos} trailing bytes")


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return COUNT16.pack(len(b)) + b


def _pose(p: Pose) -> bytes:
    return POSE.pack(*p.position, *p.rotation)


def _pose_set(ps: PoseSet) -> bytes:
    parts = [bytes([ps.flags]), _pose(ps.body)]
    parts += [_pose(p) for p in (ps.head, ps.left_hand, ps.right_hand) if p is not None]
    return b"".join(parts)


def _chunk(c: ChunkData) -> bytes:
    head = CHUNK_HEAD.pack(*c.coord, c.version, c.encoding)
    if c.payload is None:
        return head
    if c.base_version is not None:
        head += CHUNK_BASE.pack(c.base_version)
    return head + CHUNK_PAYLOAD.pack(c.uncompressed_size, len(c.payload)) + c.payload


def _read_pose(r: Reader) -> Pose:
    v = r.unpack(POSE)
    return Pose(v[0:3], v[3:7])  # type: ignore[arg-type]


def _read_pose_set(r: Reader) -> PoseSet:
    (flags,) = r.raw(1)
    if flags & ~7:
        raise InvalidValueError(f"unknown pose flags {flags:#x}")
    body = _read_pose(r)
    head = _read_pose(r) if flags & PoseFlags.HEAD else None
    left = _read_pose(r) if flags & PoseFlags.LEFT_HAND else None
    right = _read_pose(r) if flags & PoseFlags.RIGHT_HAND else None
    return PoseSet(body, head, left, right)


def _read_chunk(r: Reader, incremental: bool = False) -> ChunkData:
    """One chunk entry; ``incremental``: encoding 2 is allowed (TERRAIN_DELTA)."""
    cx, cy, cz, version, enc = r.unpack(CHUNK_HEAD)
    coord = (cx, cy, cz)
    if enc == ChunkEncoding.GENERATED:
        return ChunkData(coord, version)  # type: ignore[arg-type]
    base: int | None = None
    if enc == ChunkEncoding.INCREMENTAL_ZSTD and incremental:
        (b,) = r.unpack(CHUNK_BASE)
        assert isinstance(b, int)
        base = b
    elif enc != ChunkEncoding.DELTA_ZSTD:
        raise InvalidValueError(f"unknown chunk encoding {enc}")
    size, n = r.unpack(CHUNK_PAYLOAD)
    assert isinstance(n, int)
    return ChunkData(coord, version, r.raw(n), size, base)  # type: ignore[arg-type]


def _read_delta_chunk(r: Reader) -> ChunkData:
    return _read_chunk(r, incremental=True)


def _read_coords(r: Reader) -> tuple[Coord, ...]:
    n = r.count()
    return tuple(r.unpack(COORD) for _ in range(n))  # type: ignore[misc]


def _many(r: Reader, n: int, item: Callable[[Reader], T]) -> tuple[T, ...]:
    return tuple(item(r) for _ in range(n))


# ---- per-message encoders --------------------------------------------------------------


def _enc_body(m: Message) -> bytes:
    if isinstance(m, Hello):
        return HELLO.pack(m.max_version, m.min_version) + _str(m.client_name)
    if isinstance(m, Welcome):
        return WELCOME.pack(m.version, m.min_version, m.tick_rate_hz, m.max_frame_bytes) + _str(
            m.server_name
        )
    if isinstance(m, Join):
        return _str(m.auth_key) + _str(m.display_name)
    if isinstance(m, JoinAccepted):
        head = JOIN_ACCEPTED.pack(m.player_id, m.character_id, m.world_seed, m.planet_index,
                                  m.server_tick, *m.position, *m.rotation,
                                  m.view_radius_chunks, len(m.canisters))
        return head + b"".join(U32.pack(c) for c in m.canisters)
    if isinstance(m, (ChunkSubscribe, ChunkUnsubscribe)):
        return COUNT16.pack(len(m.coords)) + b"".join(COORD.pack(*c) for c in m.coords)
    if isinstance(m, ChunkState):
        return _chunk(m.chunk)
    if isinstance(m, TerrainDelta):
        return TICK_COUNT.pack(m.tick, len(m.chunks)) + b"".join(_chunk(c) for c in m.chunks)
    if isinstance(m, EditRequest):
        return EDIT_REQUEST.pack(m.seq, m.mode, *m.centre, m.radius)
    if isinstance(m, EditResult):
        head = EDIT_RESULT.pack(m.seq, int(m.accepted), m.reason, m.soil_delta, m.soil_total,
                                len(m.chunk_versions))
        return head + b"".join(CHUNK_VERSION.pack(*c, v) for c, v in m.chunk_versions)
    if isinstance(m, PlayerTransform):
        return _pose_set(m.poses)
    if isinstance(m, PlayerStates):
        return TICK_COUNT.pack(m.tick, len(m.players)) + b"".join(
            U32.pack(pid) + _pose_set(ps) for pid, ps in m.players
        )
    if isinstance(m, PlayerLeft):
        return PLAYER_LEFT.pack(m.player_id, m.reason)
    if isinstance(m, Ping):
        return PING.pack(m.nonce, m.client_time_s)
    if isinstance(m, Pong):
        return PONG.pack(m.nonce, m.client_time_s, m.server_time_s, m.server_tick)
    if isinstance(m, Error):
        return ERROR.pack(m.code, m.context) + _str(m.reason)
    if isinstance(m, Goodbye):
        return GOODBYE.pack(m.code) + _str(m.reason)
    if isinstance(m, JoinWithTicket):
        return _str(m.ticket) + _str(m.display_name)
    if isinstance(m, TransferRequest):
        return _str(m.to_map_id)
    if isinstance(m, TransferTo):
        return (_str(m.to_map_id) + _str(m.endpoint) + _str(m.token)
                + TRANSFER_TO_EXPIRY.pack(m.expires_in_ms))
    raise LocalProtocolError(f"cannot encode {type(m).__name__}")


def encode(message: Message) -> bytes:
    """One binary frame for ``message`` (header + body).

    Raises:
        LocalProtocolError: ``message`` is not one of the protocol's message classes.
    """
    return HEADER.pack(message.OPCODE, 0) + _enc_body(message)


# ---- per-message decoders --------------------------------------------------------------


def _dec_hello(r: Reader) -> Message:
    mx, mn = r.unpack(HELLO)
    return Hello(mx, mn, r.string())  # type: ignore[arg-type]


def _dec_welcome(r: Reader) -> Message:
    v, mn, hz, mf = r.unpack(WELCOME)
    return Welcome(v, mn, hz, mf, r.string())  # type: ignore[arg-type]


def _dec_join(r: Reader) -> Message:
    return Join(r.string(), r.string())


def _dec_join_accepted(r: Reader) -> Message:
    v = r.unpack(JOIN_ACCEPTED)
    cans = tuple(r.unpack(U32)[0] for _ in range(v[-1]))  # type: ignore[call-overload]
    return JoinAccepted(v[0], v[1], v[2], v[3], v[4], v[5:8], v[8:12],  # type: ignore[arg-type]
                        v[12], cans)  # type: ignore[arg-type]


def _dec_subscribe(r: Reader) -> Message:
    return ChunkSubscribe(_read_coords(r))


def _dec_unsubscribe(r: Reader) -> Message:
    return ChunkUnsubscribe(_read_coords(r))


def _dec_chunk_state(r: Reader) -> Message:
    return ChunkState(_read_chunk(r))


def _dec_terrain_delta(r: Reader) -> Message:
    tick, n = r.unpack(TICK_COUNT)
    return TerrainDelta(tick, _many(r, n, _read_delta_chunk))  # type: ignore[arg-type]


def _dec_edit_request(r: Reader) -> Message:
    seq, mode, x, y, z, radius = r.unpack(EDIT_REQUEST)
    return EditRequest(seq, mode, (x, y, z), radius)  # type: ignore[arg-type]


def _dec_edit_result(r: Reader) -> Message:
    seq, acc, reason, delta, total, n = r.unpack(EDIT_RESULT)
    if acc not in (0, 1):
        raise InvalidValueError(f"accepted must be 0 or 1, got {acc}")

    def item(rr: Reader) -> tuple[Coord, int]:
        cx, cy, cz, ver = rr.unpack(CHUNK_VERSION)
        return (cx, cy, cz), ver  # type: ignore[return-value]

    return EditResult(seq, bool(acc), reason, delta, total,  # type: ignore[arg-type]
                      _many(r, n, item))  # type: ignore[arg-type]


def _dec_transform(r: Reader) -> Message:
    return PlayerTransform(_read_pose_set(r))


def _dec_player_states(r: Reader) -> Message:
    tick, n = r.unpack(TICK_COUNT)

    def item(rr: Reader) -> tuple[int, PoseSet]:
        (pid,) = rr.unpack(U32)
        return pid, _read_pose_set(rr)  # type: ignore[return-value]

    return PlayerStates(tick, _many(r, n, item))  # type: ignore[arg-type]


def _dec_player_left(r: Reader) -> Message:
    pid, reason = r.unpack(PLAYER_LEFT)
    return PlayerLeft(pid, reason)  # type: ignore[arg-type]


def _dec_ping(r: Reader) -> Message:
    return Ping(*r.unpack(PING))  # type: ignore[arg-type]


def _dec_pong(r: Reader) -> Message:
    return Pong(*r.unpack(PONG))  # type: ignore[arg-type]


def _dec_error(r: Reader) -> Message:
    code, ctx = r.unpack(ERROR)
    return Error(code, r.string(), ctx)  # type: ignore[arg-type]


def _dec_goodbye(r: Reader) -> Message:
    (code,) = r.unpack(GOODBYE)
    return Goodbye(code, r.string())  # type: ignore[arg-type]


def _dec_join_with_ticket(r: Reader) -> Message:
    return JoinWithTicket(r.string(), r.string())


def _dec_transfer_request(r: Reader) -> Message:
    return TransferRequest(r.string())


def _dec_transfer_to(r: Reader) -> Message:
    to_map_id, endpoint, token = r.string(), r.string(), r.string()
    (expires,) = r.unpack(TRANSFER_TO_EXPIRY)
    return TransferTo(to_map_id, endpoint, token, expires)  # type: ignore[arg-type]


DECODERS: Final[dict[Opcode, Callable[[Reader], Message]]] = {
    Opcode.HELLO: _dec_hello,
    Opcode.WELCOME: _dec_welcome,
    Opcode.JOIN: _dec_join,
    Opcode.JOIN_ACCEPTED: _dec_join_accepted,
    Opcode.CHUNK_SUBSCRIBE: _dec_subscribe,
    Opcode.CHUNK_UNSUBSCRIBE: _dec_unsubscribe,
    Opcode.CHUNK_STATE: _dec_chunk_state,
    Opcode.TERRAIN_DELTA: _dec_terrain_delta,
    Opcode.EDIT_REQUEST: _dec_edit_request,
    Opcode.EDIT_RESULT: _dec_edit_result,
    Opcode.PLAYER_TRANSFORM: _dec_transform,
    Opcode.PLAYER_STATES: _dec_player_states,
    Opcode.PLAYER_LEFT: _dec_player_left,
    Opcode.PING: _dec_ping,
    Opcode.PONG: _dec_pong,
    Opcode.ERROR: _dec_error,
    Opcode.GOODBYE: _dec_goodbye,
    Opcode.JOIN_WITH_TICKET: _dec_join_with_ticket,
    Opcode.TRANSFER_REQUEST: _dec_transfer_request,
    Opcode.TRANSFER_TO: _dec_transfer_to,
}


def peek_opcode(frame: bytes) -> Opcode:
    """The opcode of ``frame`` without decoding its body.

    Raises:
        MalformedMessageError: shorter than the 2-byte header.
        UnknownOpcodeError: the first byte names no message.
    """
    if len(frame) < HEADER.size:
        raise MalformedMessageError(f"frame of {len(frame)} bytes is shorter than the header")
    try:
        return Opcode(frame[0])
    except ValueError:
        raise UnknownOpcodeError(f"unknown opcode {frame[0]}") from None


def decode(frame: bytes) -> Message:
    """The message in one binary frame.

    Raises:
        MalformedMessageError: truncated, trailing bytes, invalid UTF-8.
        UnknownOpcodeError: the opcode byte names no message.
        InvalidValueError: a field is out of range, NaN or infinite.
    """
    opcode = peek_opcode(frame)
    r = Reader(frame, HEADER.size)
    try:
        msg = DECODERS[opcode](r)
    except RemoteProtocolError:
        raise
    except (ValueError, TypeError, OverflowError) as e:
        raise InvalidValueError(f"{opcode.name}: {e}") from None
    r.end()
    return msg


# ---- pre-encoded entries (one encoding shared by many sessions per tick) ---------------


def encode_chunk_entry(chunk: ChunkData) -> bytes:
    """The ``chunk`` entry layout alone (as inside CHUNK_STATE and TERRAIN_DELTA)."""
    return _chunk(chunk)


def encode_player_entry(player_id: int, poses: PoseSet) -> bytes:
    """One PLAYER_STATES entry: ``u32 player_id`` + pose set."""
    return U32.pack(player_id) + _pose_set(poses)


def frame_terrain_delta(tick: int, entries: list[bytes]) -> bytes:
    """A TERRAIN_DELTA frame from 1..1024 :func:`encode_chunk_entry` results."""
    return HEADER.pack(Opcode.TERRAIN_DELTA, 0) + TICK_COUNT.pack(tick, len(entries)) + b"".join(
        entries)


def frame_player_states(tick: int, entries: list[bytes]) -> bytes:
    """A PLAYER_STATES frame from 1..1024 :func:`encode_player_entry` results."""
    return HEADER.pack(Opcode.PLAYER_STATES, 0) + TICK_COUNT.pack(tick, len(entries)) + b"".join(
        entries)


def frame_chunk_state(entry: bytes) -> bytes:
    """A CHUNK_STATE frame around one :func:`encode_chunk_entry` result."""
    return HEADER.pack(Opcode.CHUNK_STATE, 0) + entry
