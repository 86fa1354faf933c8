"""Opcodes, protocol versions and the changelog.

Every frame starts with a 2-byte header: ``u8 opcode, u8 flags`` (flags are reserved: senders
write 0, receivers ignore them in version 1). The body layout of each message is written
next to its opcode below and in full in ``docs/protocol.md``. All integers little-endian;
``str`` is ``u16 byte length + UTF-8``; ``vec3d`` is 3 x f64 and ``vec3f`` 3 x f32 (metres,
planet-centred); ``quat`` is 4 x f32 (x, y, z, w); ``coord`` is 3 x i32 (chunk coordinates).

The GDScript client mirrors :class:`Opcode` name-for-name and ordinal-for-ordinal
(``godot_project/net/``); ``tests/server/test_protocol_docs.py`` checks the table in
docs/protocol.md.

Changelog:
    1 (2026-11-24): first version.
    2 (2026-11-24): chunk entry encoding 2 INCREMENTAL_ZSTD in TERRAIN_DELTA (the voxels
        changed since a base version the client holds).
    3 (2026-11-24): JOIN_WITH_TICKET, TRANSFER_REQUEST, TRANSFER_TO; error 4010
        TICKET_DENIED and notice 4103 TRANSFER_REFUSED (orchestrator join tickets and map
        transfers). A session that negotiated an older version never sends or receives the
        three new messages (:data:`MIN_VERSION_OF`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

#: Version this implementation speaks (the newest it knows).
PROTOCOL_VERSION: Final = 3
#: Oldest version this implementation still accepts.
MIN_PROTOCOL_VERSION: Final = 1

#: ``version -> summary`` of what changed; keep in step with docs/protocol.md.
CHANGELOG: Final[dict[int, str]] = {
    1: "first version: handshake, join, chunk streaming, terrain edits, transforms, ping",
    2: "TERRAIN_DELTA chunk entries may use encoding 2 INCREMENTAL_ZSTD (changes since a base "
       "version)",
    3: "JOIN_WITH_TICKET, TRANSFER_REQUEST, TRANSFER_TO; error 4010 TICKET_DENIED and notice "
       "4103 TRANSFER_REFUSED (orchestrator join tickets and map transfers)",
}


class Opcode(IntEnum):
    """First byte of every frame. ``C->S`` client to server, ``S->C`` server to client."""

    # 0 is never a valid opcode (catches zero-filled garbage).
    HELLO = 1  # C->S  u16 max_version, u16 min_version, str client_name
    WELCOME = 2  # S->C  u16 version, u16 min_version, u16 tick_rate_hz, u32 max_frame_bytes,
    #                    str server_name
    JOIN = 3  # C->S  str auth_key (empty = disposable), str display_name
    JOIN_ACCEPTED = 4  # S->C  u32 player_id, u32 character_id, u64 world_seed, u16 planet,
    #                          u32 server_tick, vec3d position, quat rotation,
    #                          u16 view_radius_chunks, u8 n, n x u32 canisters
    CHUNK_SUBSCRIBE = 5  # C->S  u16 n, n x coord
    CHUNK_UNSUBSCRIBE = 6  # C->S  u16 n, n x coord
    CHUNK_STATE = 7  # S->C  chunk entry (coord, u32 version, u8 encoding, [payload])
    TERRAIN_DELTA = 8  # S->C  u32 tick, u16 n, n x chunk entry
    EDIT_REQUEST = 9  # C->S  u32 seq, u8 mode, vec3d centre, f32 radius
    EDIT_RESULT = 10  # S->C  u32 seq, u8 accepted, u8 reason, i32 soil_delta,
    #                         u32 soil_total, u16 n, n x (coord, u32 version)
    PLAYER_TRANSFORM = 11  # C->S  pose set (u8 flags, body pose, optional head/hands)
    PLAYER_STATES = 12  # S->C  u32 tick, u16 n, n x (u32 player_id, pose set)
    PLAYER_LEFT = 13  # S->C  u32 player_id, u8 reason
    PING = 14  # C->S  u32 nonce, f64 client_time_s
    PONG = 15  # S->C  u32 nonce, f64 client_time_s, f64 server_time_s, u32 server_tick
    ERROR = 16  # S->C  u16 code, u32 context, str reason
    GOODBYE = 17  # both  u16 code, str reason
    # ---- protocol version 3 (orchestrator join tickets and map transfers) ----
    JOIN_WITH_TICKET = 18  # C->S  str ticket, str display_name
    TRANSFER_REQUEST = 19  # C->S  str to_map_id
    TRANSFER_TO = 20  # S->C  str to_map_id, str endpoint, str token, u32 expires_in_ms


#: Opcodes a client may send; every other opcode is server-to-client only (GOODBYE is both).
CLIENT_TO_SERVER: Final = frozenset({
    Opcode.HELLO, Opcode.JOIN, Opcode.CHUNK_SUBSCRIBE, Opcode.CHUNK_UNSUBSCRIBE,
    Opcode.EDIT_REQUEST, Opcode.PLAYER_TRANSFORM, Opcode.PING, Opcode.GOODBYE,
    Opcode.JOIN_WITH_TICKET, Opcode.TRANSFER_REQUEST,
})
#: Opcodes a server may send.
SERVER_TO_CLIENT: Final = frozenset({
    Opcode.WELCOME, Opcode.JOIN_ACCEPTED, Opcode.CHUNK_STATE, Opcode.TERRAIN_DELTA,
    Opcode.EDIT_RESULT, Opcode.PLAYER_STATES, Opcode.PLAYER_LEFT, Opcode.PONG, Opcode.ERROR,
    Opcode.GOODBYE, Opcode.TRANSFER_TO,
})

#: Opcodes that need a newer protocol version than 1: ``opcode -> first version``. A session
#: that negotiated an older version treats them as unexpected (4002) when received and
#: refuses to send them (:class:`~.errors.LocalProtocolError`).
MIN_VERSION_OF: Final[dict[Opcode, int]] = {
    Opcode.JOIN_WITH_TICKET: 3,
    Opcode.TRANSFER_REQUEST: 3,
    Opcode.TRANSFER_TO: 3,
}
