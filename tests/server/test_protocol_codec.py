"""Codec: golden frames, hypothesis round-trips, fuzzed garbage, value validation."""

from __future__ import annotations

import contextlib
import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.protocol import (
    ChunkData,
    ChunkEncoding,
    ChunkState,
    ChunkSubscribe,
    ChunkUnsubscribe,
    EditMode,
    EditRequest,
    EditResult,
    Error,
    Goodbye,
    Hello,
    InvalidValueError,
    Join,
    JoinAccepted,
    JoinWithTicket,
    LeaveReason,
    MalformedMessageError,
    Message,
    Opcode,
    Ping,
    PlayerLeft,
    PlayerStates,
    PlayerTransform,
    Pong,
    Pose,
    PoseSet,
    RemoteProtocolError,
    TerrainDelta,
    TransferRequest,
    TransferTo,
    UnknownOpcodeError,
    Welcome,
    decode,
    encode,
)
from server.protocol.golden import examples, golden_document

GOLDEN = Path(__file__).with_name("golden_frames.json")
ROOT = Path(__file__).resolve().parents[2]

# ---- strategies (f32 fields draw f32-exact values so round-trips are exact) -------------
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
i32 = st.integers(-(1 << 31), (1 << 31) - 1)
f64 = st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False)
f32 = st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False, width=32)
unit = st.floats(-1.0, 1.0, allow_nan=False, width=32)
text = st.text(max_size=8)  # <= 32 UTF-8 bytes, within every string limit
coord = st.tuples(i32, i32, i32)
vec3f = st.tuples(f32, f32, f32)
quat = st.tuples(unit, unit, unit, unit)
pose = st.builds(Pose, vec3f, quat)
pose_set = st.builds(PoseSet, pose, st.none() | pose, st.none() | pose, st.none() | pose)
payload = st.binary(max_size=64)
chunk = st.one_of(
    st.builds(ChunkData, coord, u32),
    st.builds(ChunkData, coord, u32, payload, st.integers(0, 1 << 22)),
)
versions = st.integers(0, 0xFFFF)
# v3: tickets / tokens are 1..2048 printable ASCII, map ids 1..64 of [a-z0-9-]
printable = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
token = st.text(printable, min_size=1, max_size=40) | st.text(printable, min_size=2040,
                                                              max_size=2048)
map_id = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1,
                 max_size=64)
endpoint = st.text(max_size=60)
incremental_chunk = st.builds(
    lambda c, base, step, p, n: ChunkData(c, base + step, p, n, base_version=base),
    coord, st.integers(0, 0xFFFF0000), st.integers(1, 0xFFFF), payload, st.integers(0, 1 << 22))

messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(lambda a, b, n: Hello(max(a, b), min(a, b), n), versions, versions, text),
    st.builds(Welcome, u16, u16, st.integers(1, 0xFFFF), u32, text),
    st.builds(Join, text, text),
    st.builds(JoinAccepted, u32, u32, st.integers(0, (1 << 64) - 1), u16, u32,
              st.tuples(f64, f64, f64), quat, u16,
              st.lists(u32, max_size=32).map(tuple)),
    st.builds(ChunkSubscribe, st.lists(coord, min_size=1, max_size=20).map(tuple)),
    st.builds(ChunkUnsubscribe, st.lists(coord, min_size=1, max_size=20).map(tuple)),
    st.builds(ChunkState, chunk),
    st.builds(TerrainDelta, u32, st.lists(chunk | incremental_chunk, min_size=1,
                                          max_size=5).map(tuple)),
    st.builds(EditRequest, u32, st.sampled_from(EditMode), st.tuples(f64, f64, f64),
              st.floats(0, 1000, width=32)),
    st.builds(EditResult, u32, st.booleans(), u8, i32, u32,
              st.lists(st.tuples(coord, u32), max_size=8).map(tuple)),
    st.builds(PlayerTransform, pose_set),
    st.builds(PlayerStates, u32, st.lists(st.tuples(u32, pose_set), min_size=1,
                                          max_size=5).map(tuple)),
    st.builds(PlayerLeft, u32, st.sampled_from(LeaveReason)),
    st.builds(Ping, u32, f64),
    st.builds(Pong, u32, f64, f64, u32),
    st.builds(Error, u16, text, u32),
    st.builds(Goodbye, u16, text),
    st.builds(JoinWithTicket, token, text),
    st.builds(TransferRequest, map_id),
    st.builds(TransferTo, map_id, endpoint, token, u32),
)


# ---- golden frames ---------------------------------------------------------------------


def test_golden_file_is_current() -> None:
    """tests/server/golden_frames.json equals what the generator produces now."""
    assert json.loads(GOLDEN.read_text()) == golden_document()


def test_golden_frames_cover_every_opcode_and_round_trip() -> None:
    doc = json.loads(GOLDEN.read_text())
    assert {f["opcode"] for f in doc["frames"]} == {int(o) for o in Opcode}
    by_name = dict(examples())
    for f in doc["frames"]:
        frame = bytes.fromhex(f["hex"])
        assert frame[0] == f["opcode"] and frame[1] == 0
        assert decode(frame) == by_name[f["name"]]
        assert encode(by_name[f["name"]]) == frame


def test_golden_edit_request_layout_by_hand() -> None:
    """The documented layout, packed independently of the codec."""
    frame = bytes.fromhex(next(f["hex"] for f in golden_document()["frames"]
                               if f["name"] == "edit_request"))
    assert frame == struct.pack("<BBIB3df", 9, 0, 42, 0, 966.5, -0.25, -117.0, 1.5)


# ---- round trips -----------------------------------------------------------------------


@given(messages)
@settings(max_examples=400, deadline=None)
def test_round_trip(msg: Message) -> None:
    frame = encode(msg)
    assert frame[0] == msg.OPCODE
    assert decode(frame) == msg


@given(messages, st.data())
@settings(max_examples=300, deadline=None)
def test_truncated_frames_are_malformed(msg: Message, data: st.DataObject) -> None:
    frame = encode(msg)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(RemoteProtocolError):
        decode(frame[:cut])


@given(messages, st.binary(min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_trailing_bytes_are_malformed(msg: Message, extra: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        decode(encode(msg) + extra)


# ---- fuzzing: nothing but the protocol's own errors ------------------------------------


@given(st.binary(max_size=300))
@settings(max_examples=3000, deadline=None)
def test_garbage_raises_only_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode(data)


@given(st.sampled_from([bytes.fromhex(f["hex"]) for f in golden_document()["frames"]]),
       st.lists(st.tuples(st.integers(0, 400), u8), min_size=1, max_size=6))
@settings(max_examples=3000, deadline=None)
def test_mutated_frames_raise_only_protocol_errors(frame: bytes,
                                                   edits: list[tuple[int, int]]) -> None:
    b = bytearray(frame)
    for pos, val in edits:
        b[pos % len(b)] = val
    with contextlib.suppress(RemoteProtocolError):
        decode(bytes(b))


# ---- specific rejections ---------------------------------------------------------------


def test_unknown_opcodes() -> None:
    for op in (0, 21, 0x7F, 0xFF):
        with pytest.raises(UnknownOpcodeError):
            decode(bytes([op, 0]))
    with pytest.raises(MalformedMessageError):
        decode(b"\x01")
    with pytest.raises(MalformedMessageError):
        decode(b"")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_edit_centre_and_radius_are_invalid(bad: float) -> None:
    frame = struct.pack("<BBIB3df", Opcode.EDIT_REQUEST, 0, 1, 0, 1.0, bad, 2.0, 1.0)
    with pytest.raises(InvalidValueError, match="finite"):
        decode(frame)
    frame = struct.pack("<BBIB3df", Opcode.EDIT_REQUEST, 0, 1, 0, 1.0, 0.0, 2.0, bad)
    with pytest.raises(InvalidValueError):
        decode(frame)


def test_non_finite_transform_is_invalid() -> None:
    frame = struct.pack("<BBB3f4f", Opcode.PLAYER_TRANSFORM, 0, 0, 1.0, math.nan, 0.0,
                        0, 0, 0, 1)
    with pytest.raises(InvalidValueError):
        decode(frame)


def test_bad_enums_and_flags_are_invalid() -> None:
    with pytest.raises(InvalidValueError, match="edit mode"):
        decode(struct.pack("<BBIB3df", Opcode.EDIT_REQUEST, 0, 1, 3, 0.0, 0.0, 0.0, 1.0))
    with pytest.raises(InvalidValueError, match="pose flags"):
        decode(struct.pack("<BBB3f4f", Opcode.PLAYER_TRANSFORM, 0, 8, 0, 0, 0, 0, 0, 0, 1))
    with pytest.raises(InvalidValueError, match="chunk encoding"):
        decode(struct.pack("<BBiiiIB", Opcode.CHUNK_STATE, 0, 0, 0, 0, 1, 2))
    with pytest.raises(InvalidValueError):
        decode(struct.pack("<BBHH", Opcode.HELLO, 0, 1, 2) + b"\x00\x00")  # min > max
    # encoding 2 (INCREMENTAL_ZSTD) only in TERRAIN_DELTA, base_version below version
    with pytest.raises(InvalidValueError, match="chunk encoding"):
        decode(struct.pack("<BBiiiIBIII", Opcode.CHUNK_STATE, 0, 0, 0, 0, 5, 2, 3, 0, 0))
    with pytest.raises(InvalidValueError, match="base_version"):
        decode(struct.pack("<BBIHiiiIBIII", Opcode.TERRAIN_DELTA, 0, 1, 1, 0, 0, 0, 5, 2, 5,
                           0, 1) + b"x")


def test_incremental_entry_layout_and_round_trip() -> None:
    c = ChunkData((1, -2, 3), 9, b"zz", 7, base_version=4)
    assert c.encoding == ChunkEncoding.INCREMENTAL_ZSTD == 2
    frame = encode(TerrainDelta(77, (c, ChunkData((0, 0, 0), 1, b"a", 3))))
    assert frame[:8] == struct.pack("<BBIH", Opcode.TERRAIN_DELTA, 0, 77, 2)
    assert frame[8:8 + 31] == struct.pack("<iiiIBIII", 1, -2, 3, 9, 2, 4, 7, 2) + b"zz"
    assert decode(frame) == TerrainDelta(77, (c, ChunkData((0, 0, 0), 1, b"a", 3)))
    with pytest.raises(ValueError):
        ChunkState(c)
    with pytest.raises(ValueError):
        ChunkData((0, 0, 0), 4, b"z", 1, base_version=4)


def test_strings_limits_and_utf8() -> None:
    long_key = "k" * 129
    frame = bytes([Opcode.JOIN, 0]) + struct.pack("<H", 129) + long_key.encode() + b"\0\0"
    with pytest.raises(InvalidValueError, match="auth_key"):
        decode(frame)
    frame = bytes([Opcode.JOIN, 0]) + struct.pack("<H", 2) + b"\xff\xfe" + b"\0\0"
    with pytest.raises(MalformedMessageError, match="UTF-8"):
        decode(frame)


def test_empty_subscribe_is_invalid() -> None:
    with pytest.raises(InvalidValueError):
        decode(struct.pack("<BBH", Opcode.CHUNK_SUBSCRIBE, 0, 0))


def test_constructors_validate() -> None:
    with pytest.raises(ValueError):
        EditRequest(1, EditMode.EXCAVATE, (math.nan, 0.0, 0.0), 1.0)
    with pytest.raises(ValueError):
        Pose((0.0, 0.0, 0.0), (0.0, 0.0, 2.0, 1.0))
    with pytest.raises(ValueError):
        ChunkData((0, 0, 0), 1, None, 5)
    with pytest.raises(ValueError):
        JoinAccepted(1, 0, -1, 0, 0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), 4)
    with pytest.raises(ValueError):
        Error(70000, "x")


def test_flags_byte_is_ignored_by_receivers() -> None:
    frame = bytearray(encode(Ping(1, 2.0)))
    frame[1] = 0xA5
    assert decode(bytes(frame)) == Ping(1, 2.0)


def test_protocol_core_needs_no_sockets_or_asyncio() -> None:
    """server.protocol imports with websockets and asyncio made unimportable."""
    code = ("import sys; sys.modules['websockets'] = None; sys.modules['asyncio'] = None; "
            f"sys.path.insert(0, {str(ROOT)!r}); "
            "import server.protocol as p; from server.protocol import golden; "
            "assert p.decode(p.encode(p.Ping(1, 2.0))) == p.Ping(1, 2.0); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---- protocol version 3: JOIN_WITH_TICKET, TRANSFER_REQUEST, TRANSFER_TO ----------------


def _s(b: bytes) -> bytes:
    """A ``str`` field packed by hand: u16 length + bytes."""
    return struct.pack("<H", len(b)) + b


def test_v3_layouts_by_hand() -> None:
    """The documented v3 layouts, packed independently of the codec."""
    assert encode(JoinWithTicket("t.k-1~", "Ada")) == (
        bytes([18, 0]) + _s(b"t.k-1~") + _s(b"Ada"))
    assert encode(JoinWithTicket("x")) == bytes([18, 0]) + _s(b"x") + _s(b"")
    assert encode(TransferRequest("planet-1")) == bytes([19, 0]) + _s(b"planet-1")
    frame = encode(TransferTo("planet-1", "ws://127.0.0.1:7781", "tok", 30000))
    assert frame == (bytes([20, 0]) + _s(b"planet-1") + _s(b"ws://127.0.0.1:7781") + _s(b"tok")
                     + struct.pack("<I", 30000))
    assert decode(frame) == TransferTo("planet-1", "ws://127.0.0.1:7781", "tok", 30000)
    assert (Opcode.JOIN_WITH_TICKET, Opcode.TRANSFER_REQUEST, Opcode.TRANSFER_TO) == (18, 19, 20)
    doc = {f["name"]: f for f in golden_document()["frames"]}
    assert doc["transfer_to"]["hex"].endswith(struct.pack("<I", 30000).hex())
    assert doc["transfer_request"]["hex"] == (bytes([19, 0]) + _s(b"planet-1")).hex()


def test_v3_limits_at_the_edges() -> None:
    big = "~" * 2048
    assert decode(encode(JoinWithTicket(big, "n" * 32))) == JoinWithTicket(big, "n" * 32)
    assert decode(encode(TransferRequest("a" * 64))) == TransferRequest("a" * 64)
    to = TransferTo("0-z", "w" * 256, big, 0xFFFFFFFF)
    assert decode(encode(to)) == to
    assert decode(encode(TransferTo("m", "", "!", 0))) == TransferTo("m", "", "!", 0)


@pytest.mark.parametrize("ticket", ["", "~" * 2049, "has space", "tab\t", "nul\0", "del\x7f",
                                    "caf\u00e9", "\u2603"])
def test_bad_tickets_are_invalid_4004(ticket: str) -> None:
    with pytest.raises(ValueError):
        JoinWithTicket(ticket)
    with pytest.raises(ValueError):
        TransferTo("planet-1", "ws://h:1", ticket, 1)
    raw = ticket.encode("utf-8")
    with pytest.raises(InvalidValueError, match="ticket") as e:
        decode(bytes([18, 0]) + _s(raw) + _s(b""))
    assert e.value.code == 4004
    with pytest.raises(InvalidValueError, match="token") as e:
        decode(bytes([20, 0]) + _s(b"planet-1") + _s(b"ws://h:1") + _s(raw)
               + struct.pack("<I", 1))
    assert e.value.code == 4004


@pytest.mark.parametrize("map_id", ["", "a" * 65, "Planet-1", "planet_1", "planet 1", "planète",
                                    "planet/1", "planet.1"])
def test_bad_map_ids_are_invalid_4004(map_id: str) -> None:
    with pytest.raises(ValueError):
        TransferRequest(map_id)
    with pytest.raises(ValueError):
        TransferTo(map_id, "ws://h:1", "t", 1)
    raw = map_id.encode("utf-8")
    with pytest.raises(InvalidValueError, match="to_map_id") as e:
        decode(bytes([19, 0]) + _s(raw))
    assert e.value.code == 4004
    with pytest.raises(InvalidValueError, match="to_map_id") as e:
        decode(bytes([20, 0]) + _s(raw) + _s(b"ws://h:1") + _s(b"t") + struct.pack("<I", 1))
    assert e.value.code == 4004


def test_v3_oversize_strings_and_bad_utf8() -> None:
    with pytest.raises(InvalidValueError, match="endpoint") as e:
        decode(bytes([20, 0]) + _s(b"m") + _s(b"w" * 257) + _s(b"t") + struct.pack("<I", 1))
    assert e.value.code == 4004
    with pytest.raises(ValueError):
        TransferTo("m", "w" * 257, "t", 1)
    with pytest.raises(ValueError):
        TransferTo("m", "w", "t", -1)
    with pytest.raises(InvalidValueError, match="display_name"):
        decode(bytes([18, 0]) + _s(b"t") + _s(b"n" * 33))
    # invalid UTF-8 is malformed (4000) as in every str field
    with pytest.raises(MalformedMessageError) as m:
        decode(bytes([18, 0]) + _s(b"\xff\xfe") + _s(b""))
    assert m.value.code == 4000


def test_v3_truncated_and_trailing_are_malformed_4000() -> None:
    for msg in (JoinWithTicket("abc", "Ada"), TransferRequest("planet-1"),
                TransferTo("planet-1", "ws://127.0.0.1:1", "tok", 5)):
        frame = encode(msg)
        for cut in range(len(frame)):
            with pytest.raises(RemoteProtocolError) as e:
                decode(frame[:cut])
            assert e.value.code == 4000, (msg, cut)
        with pytest.raises(MalformedMessageError):
            decode(frame + b"\0")
