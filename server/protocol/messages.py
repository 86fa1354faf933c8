"""The closed set of protocol messages: small immutable classes that validate themselves.

Each class validates its fields in ``__post_init__`` and raises :class:`ValueError` (the codec
turns that into :class:`~.errors.InvalidValueError` when the bad value came off the wire). Units:
positions and centres in metres in the planet-centred frame, radii in metres, times in
seconds, rotations as unit quaternions ``(x, y, z, w)``. Byte layouts: ``docs/protocol.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final

from .errors import ErrorCode
from .opcodes import Opcode

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Coord = tuple[int, int, int]

MAX_NAME_BYTES: Final = 64  #: client_name / server_name
MAX_DISPLAY_NAME_BYTES: Final = 32
MAX_AUTH_KEY_BYTES: Final = 128
MAX_REASON_BYTES: Final = 512
MAX_COORDS_PER_MESSAGE: Final = 1024  #: CHUNK_SUBSCRIBE / CHUNK_UNSUBSCRIBE
MAX_CHUNKS_PER_MESSAGE: Final = 1024  #: TERRAIN_DELTA / EDIT_RESULT entries
MAX_PLAYERS_PER_MESSAGE: Final = 1024  #: PLAYER_STATES entries
MAX_CANISTERS: Final = 32
MAX_PAYLOAD_BYTES: Final = 1 << 20  #: compressed chunk payload
MAX_UNCOMPRESSED_BYTES: Final = 1 << 22
MAX_ABS_POSITION_M: Final = 1.0e7  #: |coordinate| of any position, metres
MAX_ABS_QUAT: Final = 1.01  #: |component| of a quaternion
MAX_RADIUS_M: Final = 1000.0  #: sanity bound of an edit radius (the world enforces the real one)
MAX_TICKET_BYTES: Final = 2048  #: v3: join ticket / transfer token (printable ASCII)
MAX_MAP_ID_BYTES: Final = 64  #: v3: map id, ``[a-z0-9-]``
MAX_ENDPOINT_BYTES: Final = 256  #: v3: TRANSFER_TO endpoint (a ``ws://`` / ``wss://`` URL)
U8: Final = 0xFF
U16: Final = 0xFFFF
U32: Final = 0xFFFFFFFF
U64: Final = (1 << 64) - 1
I32_MIN: Final = -(1 << 31)
I32_MAX: Final = (1 << 31) - 1


class EditMode(IntEnum):
    """Terrain edit mode (u8), same ordinals as ``server.world.EditMode``."""

    EXCAVATE = 0
    ELEVATE = 1
    FLATTEN = 2


class ChunkEncoding(IntEnum):
    """How a chunk entry carries its voxels (u8)."""

    GENERATED = 0  #: no payload: the client's generated voxels are current
    DELTA_ZSTD = 1  #: zstd-compressed delta payload (layout in docs/terrain.md)
    #: protocol v2, TERRAIN_DELTA only: zstd-compressed sparse delta (format 0) of the voxels
    #: changed since ``base_version``; apply only on top of exactly that version
    INCREMENTAL_ZSTD = 2


class LeaveReason(IntEnum):
    """Why a player disappeared from a client's view (u8)."""

    DISCONNECTED = 0
    OUT_OF_AREA = 1


class PoseFlags(IntEnum):
    """Bits of a pose set's flags byte: which optional VR poses follow the body pose."""

    HEAD = 1
    LEFT_HAND = 2
    RIGHT_HAND = 4


def check_int(name: str, value: int, lo: int, hi: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an int (not bool) in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} outside [{lo}, {hi}]")


def check_float(name: str, value: float, limit: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number with ``|value| <= limit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if abs(value) > limit:
        raise ValueError(f"{name}={value} exceeds +-{limit}")


def check_vec(name: str, values: tuple[float, ...], n: int, limit: float) -> None:
    """Raise ``ValueError`` unless ``values`` is an n-tuple of finite numbers within limit."""
    if not isinstance(values, tuple) or len(values) != n:
        raise ValueError(f"{name} must be a tuple of {n} numbers")
    for i, v in enumerate(values):
        check_float(f"{name}[{i}]", v, limit)


def check_coord(name: str, c: Coord) -> None:
    """Raise ``ValueError`` unless ``c`` is a 3-tuple of i32."""
    if not isinstance(c, tuple) or len(c) != 3:
        raise ValueError(f"{name} must be a tuple of 3 integers")
    for i, v in enumerate(c):
        check_int(f"{name}[{i}]", v, I32_MIN, I32_MAX)


def check_str(name: str, value: str, max_bytes: int) -> None:
    """Raise ``ValueError`` unless ``value`` is a str of at most ``max_bytes`` UTF-8 bytes."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    try:
        n = len(value.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise ValueError(f"{name} is not encodable as UTF-8") from e
    if n > max_bytes:
        raise ValueError(f"{name} is {n} bytes, the limit is {max_bytes}")


_TOKEN_RE: Final = re.compile(r"[\x21-\x7e]+")
_MAP_ID_RE: Final = re.compile(r"[a-z0-9-]+")


def check_token(name: str, value: str, max_bytes: int = MAX_TICKET_BYTES) -> None:
    """Raise ``ValueError`` unless ``value`` is 1..``max_bytes`` printable ASCII characters
    (0x21..0x7e: no space, no control, nothing outside ASCII) - a join ticket or transfer
    token, opaque to the client."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if not 1 <= len(value) <= max_bytes:
        # len() counts characters; non-ASCII ones are refused below, so this is bytes too
        raise ValueError(f"{name} is {len(value)} characters, it must be 1..{max_bytes} bytes")
    if _TOKEN_RE.fullmatch(value) is None:
        bad = next(ch for ch in value if not "\x21" <= ch <= "\x7e")
        raise ValueError(f"{name} holds {bad!r}: only printable ASCII 0x21..0x7e is allowed")


def check_map_id(name: str, value: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a map id: 1..64 characters of ``[a-z0-9-]``
    (e.g. ``planet-1``)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if not 1 <= len(value) <= MAX_MAP_ID_BYTES:
        raise ValueError(f"{name} is {len(value)} characters, it must be 1..{MAX_MAP_ID_BYTES}"
                         " bytes")
    if _MAP_ID_RE.fullmatch(value) is None:
        bad = next(ch for ch in value if not (ch == "-" or "a" <= ch <= "z" or "0" <= ch <= "9"))
        raise ValueError(f"{name} holds {bad!r}: only [a-z0-9-] is allowed")


@dataclass(frozen=True, slots=True)
class Message:
    """Base of every message; ``OPCODE`` names its frame type."""

    OPCODE: ClassVar[Opcode]


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """C->S, first frame: the range of protocol versions the client speaks."""

    OPCODE: ClassVar[Opcode] = Opcode.HELLO
    max_version: int
    min_version: int
    client_name: str = ""

    def __post_init__(self) -> None:
        check_int("max_version", self.max_version, 0, U16)
        check_int("min_version", self.min_version, 0, U16)
        if self.min_version > self.max_version:
            raise ValueError("min_version > max_version")
        check_str("client_name", self.client_name, MAX_NAME_BYTES)


@dataclass(frozen=True, slots=True)
class Welcome(Message):
    """S->C answer to HELLO: the version both sides will speak and server limits."""

    OPCODE: ClassVar[Opcode] = Opcode.WELCOME
    version: int
    min_version: int
    tick_rate_hz: int
    max_frame_bytes: int
    server_name: str = ""

    def __post_init__(self) -> None:
        check_int("version", self.version, 0, U16)
        check_int("min_version", self.min_version, 0, U16)
        check_int("tick_rate_hz", self.tick_rate_hz, 1, U16)
        check_int("max_frame_bytes", self.max_frame_bytes, 0, U32)
        check_str("server_name", self.server_name, MAX_NAME_BYTES)


@dataclass(frozen=True, slots=True)
class Join(Message):
    """C->S: enter the world. An empty ``auth_key`` asks for a disposable session; a
    non-empty one names a persistent character (the server stores only its hash)."""

    OPCODE: ClassVar[Opcode] = Opcode.JOIN
    auth_key: str = ""
    display_name: str = ""

    def __post_init__(self) -> None:
        check_str("auth_key", self.auth_key, MAX_AUTH_KEY_BYTES)
        check_str("display_name", self.display_name, MAX_DISPLAY_NAME_BYTES)


@dataclass(frozen=True, slots=True)
class JoinAccepted(Message):
    """S->C: the player is in the world.

    ``character_id`` is 0 for a disposable session. ``position`` (metres) and ``rotation``
    are the spawn pose; ``canisters`` the soil held per canister (units of the world).
    """

    OPCODE: ClassVar[Opcode] = Opcode.JOIN_ACCEPTED
    player_id: int
    character_id: int
    world_seed: int
    planet_index: int
    server_tick: int
    position: Vec3
    rotation: Quat
    view_radius_chunks: int
    canisters: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_int("player_id", self.player_id, 0, U32)
        check_int("character_id", self.character_id, 0, U32)
        check_int("world_seed", self.world_seed, 0, U64)
        check_int("planet_index", self.planet_index, 0, U16)
        check_int("server_tick", self.server_tick, 0, U32)
        check_vec("position", self.position, 3, MAX_ABS_POSITION_M)
        check_vec("rotation", self.rotation, 4, MAX_ABS_QUAT)
        check_int("view_radius_chunks", self.view_radius_chunks, 0, U16)
        if not isinstance(self.canisters, tuple) or len(self.canisters) > MAX_CANISTERS:
            raise ValueError(f"canisters must be a tuple of at most {MAX_CANISTERS} ints")
        for i, c in enumerate(self.canisters):
            check_int(f"canisters[{i}]", c, 0, U32)


def _check_coords(coords: tuple[Coord, ...]) -> None:
    if not isinstance(coords, tuple) or not 1 <= len(coords) <= MAX_COORDS_PER_MESSAGE:
        raise ValueError(f"coords must hold 1..{MAX_COORDS_PER_MESSAGE} chunk coordinates")
    for i, c in enumerate(coords):
        check_coord(f"coords[{i}]", c)


@dataclass(frozen=True, slots=True)
class ChunkSubscribe(Message):
    """C->S: send me these chunks' states and then their deltas."""

    OPCODE: ClassVar[Opcode] = Opcode.CHUNK_SUBSCRIBE
    coords: tuple[Coord, ...]

    def __post_init__(self) -> None:
        _check_coords(self.coords)


@dataclass(frozen=True, slots=True)
class ChunkUnsubscribe(Message):
    """C->S: stop sending these chunks."""

    OPCODE: ClassVar[Opcode] = Opcode.CHUNK_UNSUBSCRIBE
    coords: tuple[Coord, ...]

    def __post_init__(self) -> None:
        _check_coords(self.coords)


@dataclass(frozen=True, slots=True)
class ChunkData:
    """One chunk entry: coordinates, version and (if modified) the compressed delta.

    ``payload`` is None for :attr:`ChunkEncoding.GENERATED` (the client's generated voxels are
    current, always the case for version 0); otherwise the zstd-compressed delta of
    ``uncompressed_size`` bytes (layout in docs/terrain.md). With ``base_version`` set
    (protocol v2, :attr:`ChunkEncoding.INCREMENTAL_ZSTD`) the payload is a sparse delta
    (format 0) of only the voxels that changed between ``base_version`` and ``version``.
    """

    coord: Coord
    version: int
    payload: bytes | None = None
    uncompressed_size: int = 0
    base_version: int | None = None

    def __post_init__(self) -> None:
        check_coord("coord", self.coord)
        check_int("version", self.version, 0, U32)
        if self.payload is None:
            if self.uncompressed_size != 0:
                raise ValueError("uncompressed_size must be 0 without a payload")
        else:
            if not isinstance(self.payload, bytes) or len(self.payload) > MAX_PAYLOAD_BYTES:
                raise ValueError(f"payload must be bytes of at most {MAX_PAYLOAD_BYTES}")
            check_int("uncompressed_size", self.uncompressed_size, 0, MAX_UNCOMPRESSED_BYTES)
        if self.base_version is not None:
            if self.payload is None:
                raise ValueError("an incremental entry needs a payload")
            check_int("base_version", self.base_version, 0, U32)
            if self.base_version >= self.version:
                raise ValueError(f"base_version {self.base_version} must be below version "
                                 f"{self.version}")

    @property
    def encoding(self) -> ChunkEncoding:
        """GENERATED without a payload, DELTA_ZSTD with one, INCREMENTAL_ZSTD with a
        base version."""
        if self.payload is None:
            return ChunkEncoding.GENERATED
        if self.base_version is not None:
            return ChunkEncoding.INCREMENTAL_ZSTD
        return ChunkEncoding.DELTA_ZSTD


@dataclass(frozen=True, slots=True)
class ChunkState(Message):
    """S->C: the current state of a subscribed chunk (sent once per subscription)."""

    OPCODE: ClassVar[Opcode] = Opcode.CHUNK_STATE
    chunk: ChunkData

    def __post_init__(self) -> None:
        if self.chunk.base_version is not None:
            raise ValueError("CHUNK_STATE carries encodings 0 and 1 only")


@dataclass(frozen=True, slots=True)
class TerrainDelta(Message):
    """S->C: chunks the client holds that changed during ``tick`` (one frame per tick)."""

    OPCODE: ClassVar[Opcode] = Opcode.TERRAIN_DELTA
    tick: int
    chunks: tuple[ChunkData, ...]

    def __post_init__(self) -> None:
        check_int("tick", self.tick, 0, U32)
        if not isinstance(self.chunks, tuple) or not 1 <= len(self.chunks) <= (
            MAX_CHUNKS_PER_MESSAGE
        ):
            raise ValueError(f"chunks must hold 1..{MAX_CHUNKS_PER_MESSAGE} entries")


@dataclass(frozen=True, slots=True)
class EditRequest(Message):
    """C->S: edit the terrain: ``mode`` in a sphere of ``radius`` metres around ``centre``."""

    OPCODE: ClassVar[Opcode] = Opcode.EDIT_REQUEST
    seq: int
    mode: EditMode
    centre: Vec3
    radius: float

    def __post_init__(self) -> None:
        check_int("seq", self.seq, 0, U32)
        check_int("mode", int(self.mode), 0, U8)
        if self.mode not in EditMode.__members__.values():
            raise ValueError(f"unknown edit mode {int(self.mode)}")
        object.__setattr__(self, "mode", EditMode(self.mode))
        check_vec("centre", self.centre, 3, MAX_ABS_POSITION_M)
        check_float("radius", self.radius, MAX_RADIUS_M)


@dataclass(frozen=True, slots=True)
class EditResult(Message):
    """S->C: outcome of the edit ``seq``: accepted with new chunk versions and the canister
    soil change (``soil_delta`` signed, ``soil_total`` after), or rejected with ``reason``
    (``server.world.RejectReason`` ordinal)."""

    OPCODE: ClassVar[Opcode] = Opcode.EDIT_RESULT
    seq: int
    accepted: bool
    reason: int
    soil_delta: int = 0
    soil_total: int = 0
    chunk_versions: tuple[tuple[Coord, int], ...] = ()

    def __post_init__(self) -> None:
        check_int("seq", self.seq, 0, U32)
        if not isinstance(self.accepted, bool):
            raise ValueError("accepted must be a bool")
        check_int("reason", self.reason, 0, U8)
        check_int("soil_delta", self.soil_delta, I32_MIN, I32_MAX)
        check_int("soil_total", self.soil_total, 0, U32)
        if not isinstance(self.chunk_versions, tuple) or len(self.chunk_versions) > (
            MAX_CHUNKS_PER_MESSAGE
        ):
            raise ValueError(f"chunk_versions must hold at most {MAX_CHUNKS_PER_MESSAGE}")
        for i, (c, v) in enumerate(self.chunk_versions):
            check_coord(f"chunk_versions[{i}]", c)
            check_int(f"chunk_versions[{i}].version", v, 0, U32)


@dataclass(frozen=True, slots=True)
class Pose:
    """A rigid pose: ``position`` metres, ``rotation`` unit quaternion (x, y, z, w)."""

    position: Vec3
    rotation: Quat = (0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        check_vec("position", self.position, 3, MAX_ABS_POSITION_M)
        check_vec("rotation", self.rotation, 4, MAX_ABS_QUAT)


@dataclass(frozen=True, slots=True)
class PoseSet:
    """A player's body pose (planet-centred frame) and, for VR players, head and hand poses
    relative to the body pose (metres, in the body's frame). Missing VR poses are None."""

    body: Pose
    head: Pose | None = None
    left_hand: Pose | None = None
    right_hand: Pose | None = None

    @property
    def flags(self) -> int:
        """:class:`PoseFlags` bits of the optional poses present."""
        return ((PoseFlags.HEAD if self.head else 0) | (PoseFlags.LEFT_HAND if self.left_hand
                else 0) | (PoseFlags.RIGHT_HAND if self.right_hand else 0))


@dataclass(frozen=True, slots=True)
class PlayerTransform(Message):
    """C->S, up to 20 Hz: where the player is (the server keeps the latest per tick)."""

    OPCODE: ClassVar[Opcode] = Opcode.PLAYER_TRANSFORM
    poses: PoseSet


@dataclass(frozen=True, slots=True)
class PlayerStates(Message):
    """S->C, once per tick: poses of other players in the client's area of interest that
    changed since the last frame."""

    OPCODE: ClassVar[Opcode] = Opcode.PLAYER_STATES
    tick: int
    players: tuple[tuple[int, PoseSet], ...]

    def __post_init__(self) -> None:
        check_int("tick", self.tick, 0, U32)
        if not isinstance(self.players, tuple) or not 1 <= len(self.players) <= (
            MAX_PLAYERS_PER_MESSAGE
        ):
            raise ValueError(f"players must hold 1..{MAX_PLAYERS_PER_MESSAGE} entries")
        for i, (pid, _) in enumerate(self.players):
            check_int(f"players[{i}].id", pid, 0, U32)


@dataclass(frozen=True, slots=True)
class PlayerLeft(Message):
    """S->C: forget player ``player_id`` (disconnected or left the area of interest)."""

    OPCODE: ClassVar[Opcode] = Opcode.PLAYER_LEFT
    player_id: int
    reason: LeaveReason = LeaveReason.DISCONNECTED

    def __post_init__(self) -> None:
        check_int("player_id", self.player_id, 0, U32)
        if int(self.reason) not in LeaveReason.__members__.values():
            raise ValueError(f"unknown leave reason {self.reason}")
        object.__setattr__(self, "reason", LeaveReason(self.reason))


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """C->S: measure round-trip time; ``client_time_s`` is echoed back."""

    OPCODE: ClassVar[Opcode] = Opcode.PING
    nonce: int
    client_time_s: float

    def __post_init__(self) -> None:
        check_int("nonce", self.nonce, 0, U32)
        check_float("client_time_s", self.client_time_s, math.inf)


@dataclass(frozen=True, slots=True)
class Pong(Message):
    """S->C: answer to PING with the server's clock (Unix seconds) and tick."""

    OPCODE: ClassVar[Opcode] = Opcode.PONG
    nonce: int
    client_time_s: float
    server_time_s: float
    server_tick: int

    def __post_init__(self) -> None:
        check_int("nonce", self.nonce, 0, U32)
        check_float("client_time_s", self.client_time_s, math.inf)
        check_float("server_time_s", self.server_time_s, math.inf)
        check_int("server_tick", self.server_tick, 0, U32)


@dataclass(frozen=True, slots=True)
class Error(Message):
    """S->C: something went wrong. Fatal codes (< 4100) are followed by a close with the
    same code; ``context`` is message-specific (e.g. an edit seq), 0 if none."""

    OPCODE: ClassVar[Opcode] = Opcode.ERROR
    code: int
    reason: str = ""
    context: int = 0

    def __post_init__(self) -> None:
        check_int("code", self.code, 0, U16)
        check_int("context", self.context, 0, U32)
        check_str("reason", self.reason, MAX_REASON_BYTES)


@dataclass(frozen=True, slots=True)
class Goodbye(Message):
    """Either direction: orderly end of the session with a code and reason."""

    OPCODE: ClassVar[Opcode] = Opcode.GOODBYE
    code: int = int(ErrorCode.NORMAL)
    reason: str = ""

    def __post_init__(self) -> None:
        check_int("code", self.code, 0, U16)
        check_str("reason", self.reason, MAX_REASON_BYTES)


# ---- protocol version 3: orchestrator join tickets and map transfers -------------------


@dataclass(frozen=True, slots=True)
class JoinWithTicket(Message):
    """C->S (v3): enter the world of a map process with a ``ticket`` from the orchestrator
    (``POST /orch/bootstrap``) or the ``token`` of a :class:`TransferTo`. Legal where JOIN
    is; answered with JOIN_ACCEPTED or a fatal ERROR 4010 TICKET_DENIED.

    ``ticket``: 1..2048 bytes of printable ASCII (0x21..0x7e), opaque to the client;
    ``display_name``: at most 32 UTF-8 bytes.
    """

    OPCODE: ClassVar[Opcode] = Opcode.JOIN_WITH_TICKET
    ticket: str
    display_name: str = ""

    def __post_init__(self) -> None:
        check_token("ticket", self.ticket)
        check_str("display_name", self.display_name, MAX_DISPLAY_NAME_BYTES)


@dataclass(frozen=True, slots=True)
class TransferRequest(Message):
    """C->S (v3, JOINED): move my character to map ``to_map_id`` (1..64 bytes of
    ``[a-z0-9-]``). Answered with :class:`TransferTo` (then GOODBYE 1000) or a non-fatal
    ERROR 4103 TRANSFER_REFUSED."""

    OPCODE: ClassVar[Opcode] = Opcode.TRANSFER_REQUEST
    to_map_id: str

    def __post_init__(self) -> None:
        check_map_id("to_map_id", self.to_map_id)


@dataclass(frozen=True, slots=True)
class TransferTo(Message):
    """S->C (v3, JOINED): the character leaves this map for ``to_map_id``. The server then
    says GOODBYE 1000 and closes; the client connects to ``endpoint`` (a WebSocket URL, at
    most 256 bytes), sends HELLO and JOIN_WITH_TICKET(``token``) within ``expires_in_ms``
    milliseconds. ``token``: 1..2048 bytes of printable ASCII."""

    OPCODE: ClassVar[Opcode] = Opcode.TRANSFER_TO
    to_map_id: str
    endpoint: str
    token: str
    expires_in_ms: int

    def __post_init__(self) -> None:
        check_map_id("to_map_id", self.to_map_id)
        check_str("endpoint", self.endpoint, MAX_ENDPOINT_BYTES)
        check_token("token", self.token)
        check_int("expires_in_ms", self.expires_in_ms, 0, U32)


#: Opcode -> message class.
MESSAGE_TYPES: Final[dict[Opcode, type[Message]]] = {
    cls.OPCODE: cls
    for cls in (Hello, Welcome, Join, JoinAccepted, ChunkSubscribe, ChunkUnsubscribe,
                ChunkState, TerrainDelta, EditRequest, EditResult, PlayerTransform,
                PlayerStates, PlayerLeft, Ping, Pong, Error, Goodbye, JoinWithTicket,
                TransferRequest, TransferTo)
}
