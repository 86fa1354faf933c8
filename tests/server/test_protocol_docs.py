"""docs/protocol.md agrees with the code: opcode table, error codes, frame sizes."""

from __future__ import annotations

import re
from pathlib import Path

from server.protocol import (
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    ErrorCode,
    JoinWithTicket,
    Opcode,
    TransferRequest,
    TransferTo,
    encode,
)
from server.protocol.golden import examples
from server.protocol.opcodes import CHANGELOG, CLIENT_TO_SERVER, SERVER_TO_CLIENT

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def section(title: str) -> str:
    start = DOC.index(title)
    nxt = DOC.find("\n## ", start + len(title))
    return DOC[start: nxt if nxt > 0 else len(DOC)]


def test_opcode_table_matches_enum() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d+) \| (C→S|S→C|both) \|", section("## 3. Opcodes"),
                      re.M)
    assert [(n, int(v)) for n, v, _ in rows] == [(o.name, int(o)) for o in Opcode]
    for name, _, direction in rows:
        op = Opcode[name]
        expected = {(True, False): "C→S", (False, True): "S→C", (True, True): "both"}[
            (op in CLIENT_TO_SERVER, op in SERVER_TO_CLIENT)]
        assert direction == expected, name


def test_error_code_table_matches_enum() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d+) \| (yes|no) \|",
                      section("## 5. Error and close codes"), re.M)
    assert [(n, int(v)) for n, v, _ in rows] == [(c.name, int(c)) for c in ErrorCode]
    for name, _, fatal in rows:
        assert ErrorCode[name].fatal == (fatal == "yes"), name


def test_versions_and_changelog_documented() -> None:
    assert f"`PROTOCOL_VERSION` = {PROTOCOL_VERSION}" in DOC
    assert f"`MIN_PROTOCOL_VERSION` = {MIN_PROTOCOL_VERSION}" in DOC
    table = section("## 6. Versioning")
    for v in CHANGELOG:
        assert re.search(rf"^\| {v} \|", table, re.M)


def test_documented_fixed_sizes() -> None:
    sizes = {name: len(encode(m)) for name, m in examples()}
    assert sizes["edit_request"] == 35 and "EDIT_REQUEST (9): 35 bytes" in DOC
    assert sizes["chunk_state_generated"] == 19 and "CHUNK_STATE (7): 19 bytes" in DOC
    assert sizes["player_transform_desktop"] == 31 and sizes["player_transform_vr"] == 115
    assert sizes["ping"] == 14 and sizes["pong"] == 26 and sizes["player_left"] == 7
    assert sizes["join_accepted"] == 67 + 4 * 2 and "JOIN_ACCEPTED (4): 67 + 4 n" in DOC
    assert sizes["edit_result_accepted"] == 18 + 16 * 2


def test_documented_v3_sizes_and_sections() -> None:
    ex = dict(examples())
    jwt, req, to = ex["join_with_ticket"], ex["transfer_request"], ex["transfer_to"]
    assert isinstance(jwt, JoinWithTicket) and isinstance(req, TransferRequest)
    assert isinstance(to, TransferTo)
    assert len(encode(jwt)) == 6 + len(jwt.ticket) + len(jwt.display_name)
    assert "JOIN_WITH_TICKET (18), version 3, client to server: 6 + t + d bytes" in DOC
    assert len(encode(req)) == 4 + len(req.to_map_id)
    assert "TRANSFER_REQUEST (19), version 3, client to server: 4 + m bytes" in DOC
    assert len(encode(to)) == 12 + len(to.to_map_id) + len(to.endpoint) + len(to.token)
    assert "TRANSFER_TO (20), version 3, server to client: 12 + m + e + t bytes" in DOC
    assert "Opcode 0 and 21..255 are unknown" in DOC
    flow = section("### 2.4 Joining through the orchestrator and transfers")
    for word in ("/orch/bootstrap", "JOIN_WITH_TICKET", "TRANSFER_REQUEST", "TRANSFER_TO",
                 "4010", "4103", "GOODBYE 1000"):
        assert word in flow, word
