"""The GDScript protocol constants (godot_project/net/protocol.gd) mirror the Python
reference (server/protocol): opcode names and ordinals, error codes, reject reasons, edit
modes and the protocol versions. Parsed from the GDScript source; no Godot needed."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest

from server.protocol.errors import ErrorCode
from server.protocol.messages import ChunkEncoding, EditMode, LeaveReason
from server.protocol.opcodes import MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Opcode
from server.world.types import RejectReason

PROTOCOL_GD = Path(__file__).resolve().parents[2] / "godot_project" / "net" / "protocol.gd"


def gd_enum(name: str, path: Path = PROTOCOL_GD) -> dict[str, int]:
    """Members of ``enum NAME { ... }`` in protocol.gd, in source order (comments ignored)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^enum\s+" + name + r"\s*\{(.*?)\}", text, re.MULTILINE | re.DOTALL)
    assert m, f"enum {name} not found in {PROTOCOL_GD}"
    members: dict[str, int] = {}
    for line in m.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        for item in filter(None, (s.strip() for s in line.split(","))):
            key, _, value = item.partition("=")
            members[key.strip()] = int(value.strip(), 0)
    return members


def gd_const(name: str) -> int:
    text = PROTOCOL_GD.read_text(encoding="utf-8")
    m = re.search(r"^const\s+" + name + r"\s*:?=\s*(\d+)", text, re.MULTILINE)
    assert m, f"const {name} not found"
    return int(m.group(1))


@pytest.mark.parametrize(("gd_name", "py_enum"), [
    ("Opcode", Opcode),
    ("ErrorCode", ErrorCode),
    ("RejectReason", RejectReason),
    ("EditMode", EditMode),
    ("ChunkEncoding", ChunkEncoding),
    ("LeaveReason", LeaveReason),
])
def test_gdscript_enum_equals_python_enum(gd_name: str, py_enum: type[IntEnum]) -> None:
    gd = gd_enum(gd_name)
    py = {m.name: int(m.value) for m in py_enum}
    assert gd == py
    assert list(gd) == list(py), "same order"


def test_protocol_versions_match() -> None:
    assert gd_const("PROTOCOL_VERSION") == PROTOCOL_VERSION
    assert gd_const("MIN_PROTOCOL_VERSION") == MIN_PROTOCOL_VERSION


def test_parser_sees_a_changed_ordinal(tmp_path: Path) -> None:
    """The check would fail if an ordinal drifted (guards the parser itself)."""
    fake = tmp_path / "protocol.gd"
    fake.write_text(PROTOCOL_GD.read_text(encoding="utf-8").replace("PING = 14", "PING = 19"),
                    encoding="utf-8")
    assert gd_enum("Opcode", fake)["PING"] == 19
    assert gd_enum("Opcode", fake) != {m.name: int(m.value) for m in Opcode}
