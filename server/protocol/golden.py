"""Golden frames: one example of every message, as hex, for cross-language codec tests.

``python -m server.protocol.golden [PATH]`` writes ``tests/server/golden_frames.json``
(default path) holding, per example, its name, opcode, the fields as JSON and the frame's
hex bytes. The Python tests check that :func:`~.codec.encode` still produces these bytes and
that :func:`~.codec.decode` gives back the fields; the GDScript codec tests assert the same.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from pathlib import Path
from typing import Any, Final

from .codec import encode
from .errors import ErrorCode
from .messages import (
    ChunkData,
    ChunkState,
    ChunkSubscribe,
    ChunkUnsubscribe,
    EditMode,
    EditRequest,
    EditResult,
    Error,
    Goodbye,
    Hello,
    Join,
    JoinAccepted,
    JoinWithTicket,
    LeaveReason,
    Message,
    Ping,
    PlayerLeft,
    PlayerStates,
    PlayerTransform,
    Pong,
    Pose,
    PoseSet,
    TerrainDelta,
    TransferRequest,
    TransferTo,
    Welcome,
)
from .opcodes import MIN_PROTOCOL_VERSION, PROTOCOL_VERSION

DEFAULT_PATH: Final = (Path(__file__).resolve().parents[2] / "tests" / "server"
                       / "golden_frames.json")

#: zstd frame (level 3, content size 7) of a sparse delta (docs/terrain.md) with one record:
#: ``u8 0, u16 1, u16 index 5, i8 density 127, u8 material 2``.
EXAMPLE_PAYLOAD: Final = bytes.fromhex("28b52ffd200739000000010005007f02")
#: zstd frame (level 3, content size 11) of a sparse delta with two records:
#: ``u8 0, u16 2, (u16 5, i8 -128, u8 0), (u16 6, i8 -3, u8 1)`` (protocol v2 incremental).
EXAMPLE_INCREMENTAL: Final = bytes.fromhex(
    "28b52ffd200b590000000200050080000600fd01")

#: v3 examples: a join ticket and a transfer token are opaque printable ASCII to clients.
EXAMPLE_TICKET: Final = "v1.jt.eyJtYXBJZCI6InBsYW5ldC0wIn0.c2lnbmF0dXJl"
EXAMPLE_TOKEN: Final = "v1.tt.eyJ0b01hcElkIjoicGxhbmV0LTEifQ.c2lnbmF0dXJl"

_BODY = Pose((967.25, 1.5, -117.5), (0.5, 0.5, 0.5, 0.5))  # f32-exact values
_HEAD = Pose((0.0, 1.625, 0.0), (0.0, 0.0, 0.0, 1.0))
_LEFT = Pose((-0.25, 1.25, -0.375), (0.0, 0.0, 0.0, 1.0))
_RIGHT = Pose((0.25, 1.25, -0.375), (0.0, 0.0, 0.0, 1.0))


def examples() -> list[tuple[str, Message]]:
    """(name, message) of every example; names are unique and stable."""
    return [
        ("hello", Hello(PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, "godot-client")),
        ("welcome", Welcome(PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, 20, 65536, "planet-server")),
        ("join_disposable", Join("", "Ada")),
        ("join_persistent", Join("correct horse battery staple", "Ada")),
        ("join_accepted", JoinAccepted(7, 3, 1, 0, 1234, (967.1369598698366, 0.0, -117.5),
                                       (0.0, 0.0, 0.0, 1.0), 4, (1243, 0))),
        ("chunk_subscribe", ChunkSubscribe(((60, 0, -8), (60, -1, -8), (-63, 63, 0)))),
        ("chunk_unsubscribe", ChunkUnsubscribe(((60, 0, -8),))),
        ("chunk_state_generated", ChunkState(ChunkData((60, 1, -8), 0))),
        ("chunk_state_delta", ChunkState(ChunkData((60, 0, -8), 2, EXAMPLE_PAYLOAD, 7))),
        ("terrain_delta", TerrainDelta(1235, (ChunkData((60, 0, -8), 3, EXAMPLE_PAYLOAD, 7),
                                              ChunkData((60, -1, -8), 4)))),
        ("terrain_delta_incremental", TerrainDelta(1236, (
            ChunkData((60, 0, -8), 5, EXAMPLE_INCREMENTAL, 11, base_version=3),
            ChunkData((60, -1, -8), 5, EXAMPLE_PAYLOAD, 7)))),
        ("edit_request", EditRequest(42, EditMode.EXCAVATE, (966.5, -0.25, -117.0), 1.5)),
        ("edit_result_accepted", EditResult(42, True, 0, 1243, 1243,
                                            (((60, -1, -8), 1), ((60, 0, -8), 1)))),
        ("edit_result_rejected", EditResult(43, False, 4, 0, 0)),
        ("player_transform_desktop", PlayerTransform(PoseSet(_BODY))),
        ("player_transform_vr", PlayerTransform(PoseSet(_BODY, _HEAD, _LEFT, _RIGHT))),
        ("player_states", PlayerStates(1236, ((8, PoseSet(_BODY)),
                                              (9, PoseSet(_BODY, _HEAD, _LEFT, _RIGHT))))),
        ("player_left", PlayerLeft(8, LeaveReason.OUT_OF_AREA)),
        ("ping", Ping(5, 12.5)),
        ("pong", Pong(5, 12.5, 1764000000.25, 1237)),
        ("error", Error(int(ErrorCode.CHUNK_OUT_OF_RANGE), "chunk (99, 0, 0) is too far", 1)),
        ("goodbye", Goodbye(int(ErrorCode.GOING_AWAY), "server shutting down")),
        # ---- protocol version 3 ----
        ("join_with_ticket", JoinWithTicket(EXAMPLE_TICKET, "Ada")),
        ("transfer_request", TransferRequest("planet-1")),
        ("transfer_to", TransferTo("planet-1", "ws://127.0.0.1:7781", EXAMPLE_TOKEN, 30000)),
        ("error_ticket_denied", Error(int(ErrorCode.TICKET_DENIED),
                                      "EXPIRED: ticket expired 1200 ms ago; re-bootstrap: "
                                      "POST /orch/bootstrap")),
        ("error_transfer_refused", Error(int(ErrorCode.TRANSFER_REFUSED),
                                         "QUARANTINED: planet-1 (retry after 52000 ms)")),
    ]


def to_json_value(v: Any) -> Any:
    """Message fields as JSON-friendly values (bytes -> hex, tuples -> lists)."""
    if isinstance(v, enum.IntEnum):
        return int(v)
    if isinstance(v, bytes):
        return v.hex()
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        # an absent optional base_version (encodings 0 and 1) is left out of the JSON
        return {f.name: to_json_value(getattr(v, f.name)) for f in dataclasses.fields(v)
                if not (f.name == "base_version" and getattr(v, f.name) is None)}
    if isinstance(v, (tuple, list)):
        return [to_json_value(x) for x in v]
    return v


def golden_document() -> dict[str, Any]:
    """The JSON document written by :func:`main`."""
    return {
        "protocol_version": PROTOCOL_VERSION,
        "min_protocol_version": MIN_PROTOCOL_VERSION,
        "note": "generated by `python -m server.protocol.golden`; do not edit by hand",
        "frames": [
            {"name": name, "opcode": int(m.OPCODE), "opcode_name": m.OPCODE.name,
             "fields": to_json_value(m), "hex": encode(m).hex()}
            for name, m in examples()
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Write the golden file (argument: output path). Returns 0."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(golden_document(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(examples())} frames to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
