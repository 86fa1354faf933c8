"""Bad input against a real server: each abuse gets an error code and reason, the server
stays up and the other clients keep receiving (issue 3, section 7)."""

from __future__ import annotations

import asyncio
import math
import struct
from typing import Any

import pytest
from server_helpers import along_surface
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.client import GameClient
from server.protocol import (
    ChunkData,
    ChunkState,
    EditMode,
    EditRequest,
    Error,
    ErrorCode,
    Hello,
    Join,
    Opcode,
    decode,
    encode,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

HELLO = encode(Hello(1, 1, "abuser"))
JOIN = encode(Join("", "abuser"))
NAN_EDIT = struct.pack("<BBIB3df", Opcode.EDIT_REQUEST, 0, 1, 0, math.nan, 0.0, 0.0, 1.0)
INF_TRANSFORM = struct.pack("<BBB3f4f", Opcode.PLAYER_TRANSFORM, 0, 0, math.inf, 0, 0, 0, 0, 0, 1)

# name, frames to send, expected close code, whether an ERROR frame precedes the close
CASES: list[tuple[str, list[bytes | str], int, bool]] = [
    ("malformed_join", [HELLO, b"\x03\x00\x05\x00ab"], ErrorCode.MALFORMED_MESSAGE, True),
    ("garbage_first_frame", [b"\x01"], ErrorCode.MALFORMED_MESSAGE, True),
    ("unknown_opcode", [HELLO, b"\xee\x00\x01\x02"], ErrorCode.UNKNOWN_OPCODE, True),
    ("oversize_frame", [HELLO, b"\x0b\x00" + bytes(70_000)], ErrorCode.MESSAGE_TOO_BIG, False),
    ("wrong_version", [encode(Hello(7, 5, "future"))], ErrorCode.UNSUPPORTED_VERSION, True),
    ("edit_before_join",
     [HELLO, encode(EditRequest(1, EditMode.EXCAVATE, (0.0, 0.0, 0.0), 1.0))],
     ErrorCode.UNEXPECTED_MESSAGE, True),
    ("join_before_hello", [JOIN], ErrorCode.UNEXPECTED_MESSAGE, True),
    ("nan_edit_centre", [HELLO, JOIN, NAN_EDIT], ErrorCode.INVALID_VALUE, True),
    ("inf_transform", [HELLO, JOIN, INF_TRANSFORM], ErrorCode.INVALID_VALUE, True),
    ("server_only_message", [HELLO, JOIN, encode(ChunkState(ChunkData((0, 0, 0), 0)))],
     ErrorCode.UNEXPECTED_MESSAGE, True),
    ("text_frame", ["hello?"], ErrorCode.UNSUPPORTED_DATA, True),
]


async def abuse(url: str, frames: list[bytes | str]) -> tuple[int | None, str, list[Any]]:
    """Send ``frames`` raw; return (close code, close reason, messages received)."""
    received: list[Any] = []
    async with connect(url, compression=None, max_size=1 << 24) as ws:
        try:
            for f in frames:
                await ws.send(f)
            async for data in ws:
                assert isinstance(data, bytes)
                received.append(decode(data))
        except ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), 10)
        return ws.close_code, ws.close_reason or "", received


async def test_bad_input_is_rejected_and_others_are_unaffected(start_server: Any) -> None:
    srv = start_server()
    observer = await GameClient.connect(srv.url, name="observer")
    await observer.join()
    mover = await GameClient.connect(srv.url, name="mover")
    mj = await mover.join()
    stop = asyncio.Event()

    async def walk() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            await mover.send_transform(along_surface(mj.position, 0.01 * (k % 100)))
            await asyncio.sleep(0.05)

    walker = asyncio.create_task(walk())
    try:
        await observer.wait_for(lambda: observer.player_frames > 0, 5)
        for name, frames, code, with_error in CASES:
            before = observer.player_frames
            close_code, reason, got = await abuse(srv.url, frames)
            assert close_code == code, (name, close_code, reason, got)
            assert reason, f"{name}: close without a reason"
            if with_error:
                errors = [m for m in got if isinstance(m, Error)]
                assert errors and errors[-1].code == code and errors[-1].reason, (name, got)
            assert srv.alive(), name
            # the others keep receiving
            await observer.wait_for(lambda b=before: observer.player_frames > b + 2, 5)
            assert await observer.ping() < 1.0
            assert not mover.closed and not observer.closed
        violations = srv.events("protocol_violation")
        assert len(violations) >= len([c for c in CASES if c[3]])
    finally:
        stop.set()
        await walker
    await observer.close()
    await mover.close()


async def test_message_flood_is_rate_limited(start_server: Any) -> None:
    srv = start_server(max_messages_per_s=50, message_burst=60)
    frames: list[bytes | str] = [HELLO, JOIN] + [encode_ping(i) for i in range(200)]
    code, reason, _ = await abuse(srv.url, frames)
    assert code == ErrorCode.RATE_LIMITED and "per second" in reason
    assert srv.alive()


async def test_handshake_timeout(start_server: Any) -> None:
    srv = start_server(handshake_timeout_s=0.5)
    code, reason, _ = await abuse(srv.url, [HELLO])
    assert code == ErrorCode.HANDSHAKE_TIMEOUT and "JOIN" in reason


def encode_ping(i: int) -> bytes:
    from server.protocol import Ping

    return encode(Ping(i, 0.0))


async def test_server_full_refuses_join_with_4007(start_server: Any) -> None:
    srv = start_server(max_players=1)
    first = await GameClient.connect(srv.url)
    await first.join()
    code, reason, got = await abuse(srv.url, [HELLO, JOIN])
    assert code == ErrorCode.SERVER_FULL and "full" in reason
    assert any(isinstance(m, Error) and m.code == ErrorCode.SERVER_FULL for m in got)
    assert await first.ping() < 1.0
    await first.close()


async def test_out_of_range_edits_are_rejected_with_reasons(start_server: Any) -> None:
    from server.world import RejectReason

    srv = start_server()
    c = await GameClient.connect(srv.url)
    j = await c.join()
    p = j.position
    cases = [
        ((p[0], p[1], p[2]), 1000.0, RejectReason.RADIUS_OUT_OF_RANGE),
        ((p[0], p[1], p[2]), -1.0, RejectReason.RADIUS_OUT_OF_RANGE),
        ((p[0], p[1], p[2]), 0.0, RejectReason.RADIUS_OUT_OF_RANGE),
        ((1e7, 0.0, 0.0), 1.0, RejectReason.OUTSIDE_WORLD),
        ((p[0] + 50.0, p[1], p[2]), 1.0, RejectReason.OUT_OF_REACH),
    ]
    for centre, radius, reason in cases:
        res = await c.edit(EditMode.EXCAVATE, centre, radius)
        assert not res.accepted and res.reason == reason, (centre, radius, res)
    await c.send_transform((1e6, 0.0, 0.0))  # outside the world: non-fatal notice
    await c.wait_for(lambda: any(e.code == ErrorCode.TRANSFORM_REJECTED for e in c.errors), 5)
    assert await c.ping() < 1.0 and srv.alive()
    await c.close()
