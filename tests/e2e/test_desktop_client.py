"""Desktop client end to end: the real server, a headless Godot client and a Python observer.

1. pytest starts ``planet-server`` and a Python observer (``server.client.GameClient``) joins
   and subscribes around the spawn point.
2. A headless Godot client (``res://net/autotest.tscn``: the desktop spectator with the
   network session, driven by a JSON action list) joins the same server, waits for its
   chunks, digs 1 m below the spawn point (predicted locally at once), waits for its
   EDIT_RESULT and the TERRAIN_DELTA, and reports the voxels (SHA-256) and meshes of the
   chunks the edit changed.
3. The observer receives the same deltas; its voxels (generated + delta, Python) must equal
   the Godot client's voxels byte for byte, and the client's prediction must already have
   shown exactly those voxels.
4. The observer digs elsewhere; the Godot client must receive the delta and re-mesh that
   chunk (its vertices change) and hold the observer's voxels.

Through the orchestrator (protocol v3): the Godot client is given the orchestrator's
``http://`` URL, bootstraps, joins planet-0's map process with its ticket, digs, a Python
observer that also joined through the orchestrator sees the same voxels, then the Godot
client transfers to planet-1 (TRANSFER_REQUEST -> TRANSFER_TO -> JOIN_WITH_TICKET) and shows
that planet.

Figures (edit -> EDIT_RESULT, edit -> delta, edit -> first re-mesh) are printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from godot_support import GODOT, HEADLESS, PROJECT_DIR, REPO_ROOT, Godot, import_project
from server_process import ServerProcess

from e2e.e2e_support import start_orchestrator, start_server, wait_for_report
from server.client.client import GameClient, connect_via_orchestrator
from server.protocol import EditMode
from server.world.types import RejectReason

WORLD_SEED = 42
PLANET = 0
VIEW_RADIUS = 2
GODOT_TIMEOUT_S = 420


def _sha(density: Any, material: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(density, np.int8).tobytes()
                          + np.ascontiguousarray(material, np.uint8).tobytes()).hexdigest()


def _below(p: tuple[float, float, float], metres: float) -> tuple[float, float, float]:
    n = math.sqrt(sum(v * v for v in p))
    return (p[0] - p[0] / n * metres, p[1] - p[1] / n * metres, p[2] - p[2] / n * metres)


def _along(p: tuple[float, float, float], metres: float) -> tuple[float, float, float]:
    """``p`` moved about ``metres`` along the surface, towards +y."""
    n = math.sqrt(sum(v * v for v in p))
    u = (p[0] / n, p[1] / n, p[2] / n)
    t = (-u[1] * u[0], 1.0 - u[1] * u[1], -u[1] * u[2])
    tn = math.sqrt(sum(v * v for v in t))
    return (p[0] + t[0] / tn * metres, p[1] + t[1] / tn * metres, p[2] + t[2] / tn * metres)


def _chunk_of(p: tuple[float, float, float]) -> tuple[int, int, int]:
    return (math.floor(p[0] / 16.0), math.floor(p[1] / 16.0), math.floor(p[2] / 16.0))


def _key(c: tuple[int, int, int] | list[int]) -> str:
    return f"{c[0]},{c[1]},{c[2]}"


@pytest.mark.timeout(600)
async def test_godot_client_digs_and_sees_the_python_clients_dig(
    godot: Godot, tmp_path: Path
) -> None:
    import_project()
    server = start_server(tmp_path / "data", WORLD_SEED, PLANET)
    observer = await GameClient.connect(server.url, name="e2e-observer")
    godot_proc: subprocess.Popen[str] | None = None
    log_path = tmp_path / "godot.log"
    try:
        joined = await observer.join(display_name="observer")
        await observer.subscribe_around(3)
        spawn = joined.position
        py_centre = _below(_along(spawn, 4.0), 1.0)
        py_pos = _along(spawn, 1.0)
        py_chunk = _chunk_of(py_centre)
        report_path = tmp_path / "report.json"
        actions = {
            "output": str(report_path),
            "actions": [
                {"do": "connect", "timeout": 60},
                # a radius the server refuses: predicted, then undone
                {"do": "dig", "depth_m": 1.0, "radius": 6.0, "mode": 0, "timeout": 240},
                {"do": "wait_edit", "expect": "rejected", "timeout": 30},
                {"do": "check_restored", "name": "rejected_edit", "timeout": 30},
                # a dig through the desktop terrain tool (aim ray, default radius)
                {"do": "dig", "via_tool": True, "depth_m": 1.0, "offset_m": -2.5,
                 "timeout": 120},
                {"do": "wait_edit", "expect": "accepted", "timeout": 30},
                {"do": "wait_synced", "timeout": 120},
                {"do": "report", "name": "own_edit"},
                {"do": "wait_avatar", "name": "avatar", "position": list(py_pos),
                 "timeout": 60},
                {"do": "wait_foreign", "name": "foreign_edit", "coord": list(py_chunk),
                 "timeout": 120},
                {"do": "quit"},
            ],
        }
        actions_path = tmp_path / "actions.json"
        actions_path.write_text(json.dumps(actions), encoding="utf-8")
        cmd = [str(GODOT), *HEADLESS, "--path", str(PROJECT_DIR), "res://net/autotest.tscn",
               "--", "--server", server.url, "--world-seed", str(WORLD_SEED), "--planet",
               str(PLANET), "--view-radius", str(VIEW_RADIUS), "--autotest", str(actions_path)]
        with log_path.open("w") as log:
            godot_proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log,
                                          stderr=subprocess.STDOUT, text=True,
                                          start_new_session=True)

        def log_tail() -> str:
            return "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])

        # --- the Godot client's rejected edit, then its own dig through the tool ---------
        rep = await wait_for_report(report_path, lambda r: "own_edit" in r.get("phases", {})
                                    or bool(r.get("error")), godot_proc, GODOT_TIMEOUT_S)
        assert "own_edit" in rep.get("phases", {}), f"{rep.get('error')}\n{log_tail()}"
        rejected = rep["phases"]["rejected_edit"]
        assert rejected["predicted_changed_voxels"], "the rejected edit was shown at once"
        assert rejected["restored"], "and undone exactly"
        assert rejected["reason"] == RejectReason.RADIUS_OUT_OF_RANGE
        assert "radius" in rejected["hud_message"], rejected
        edit = rep["edit"]
        assert edit["accepted"], edit
        assert edit["via"] in ("tool", "session")
        assert edit["chunk_versions"], "the dig changed chunks"
        own = rep["phases"]["own_edit"]
        for x, y, z, version in edit["chunk_versions"]:
            coord = (x, y, z)
            await observer.wait_chunk(coord, version, timeout=30)
            d, m = observer.voxels(coord)
            key = _key(coord)
            assert own["versions"][key] == observer.chunks[coord].version == version
            assert own["voxels"][key] == _sha(d, m), f"voxels of {coord} differ from Python's"
            # the local prediction already showed the server's voxels
            assert edit["predicted_voxels"].get(key) == own["voxels"][key], coord
        changed_meshes = [k for k, mesh in own["meshes"].items()
                          if mesh["sha256"] != edit["before"]["meshes"][k]["sha256"]]
        assert changed_meshes, f"no mesh changed: {own['meshes']}"

        # --- the Python client as an avatar, then its edit, seen by the Godot client -------
        await observer.send_transform(py_pos)
        rep = await wait_for_report(report_path, lambda r: "avatar" in r.get("phases", {})
                                    or bool(r.get("error")), godot_proc, GODOT_TIMEOUT_S)
        assert "avatar" in rep.get("phases", {}), f"{rep.get('error')}\n{log_tail()}"
        result = await observer.edit(EditMode.EXCAVATE, py_centre, 1.5)
        assert result.accepted, result
        versions = dict(result.chunk_versions)
        assert py_chunk in versions, (py_chunk, versions)
        rep = await wait_for_report(report_path, lambda r: bool(r.get("done"))
                                    or bool(r.get("error")), godot_proc, GODOT_TIMEOUT_S)
        assert rep.get("done"), f"{rep.get('error')}\n{log_tail()}"
        foreign = rep["phases"]["foreign_edit"]
        key = _key(py_chunk)
        await observer.wait_chunk(py_chunk, versions[py_chunk], timeout=30)
        d, m = observer.voxels(py_chunk)
        assert foreign["after"]["versions"][key] >= versions[py_chunk]
        if foreign["after"]["versions"][key] == observer.chunks[py_chunk].version:
            assert foreign["after"]["voxels"][key] == _sha(d, m)
        before_mesh = foreign["before"]["meshes"][key]
        after_mesh = foreign["after"]["meshes"][key]
        assert after_mesh["vertices"] > 0
        assert after_mesh["sha256"] != before_mesh["sha256"], "the chunk's mesh did not change"

        print(
            f"\nE2E figures: join {rep['joined']['seconds']:.2f} s after start; "
            f"edit -> EDIT_RESULT {edit['result_ms']:.1f} ms, edit -> TERRAIN_DELTA "
            f"{edit['delta_ms']:.1f} ms, edit -> first re-mesh {edit.get('first_mesh_ms', -1):.1f}"
            f" ms (via {edit['via']}); Python edit -> Godot re-mesh"
            f" {foreign['wait_s'] * 1000:.0f} ms; avatar shown after"
            f" {rep['phases']['avatar']['wait_s']:.2f} s"
        )
        assert godot_proc.wait(60) == 0, log_tail()
    finally:
        if godot_proc is not None and godot_proc.poll() is None:
            godot_proc.kill()
            godot_proc.wait(10)
        await observer.close()
        server.stop()


# --- a misbehaving server: malformed frames, then a good session --------------------------

#: What the scripted server answers HELLO + JOIN with, per connection, and the close code
#: the client must answer with (its GOODBYE carries the same code).
BAD_SESSIONS: list[tuple[str, int]] = [
    ("unknown_opcode", 4001),
    ("text_frame", 1003),
    ("truncated_welcome", 4000),
    ("nan_in_join_accepted", 4004),
]


@pytest.mark.timeout(300)
async def test_godot_client_survives_malformed_frames_and_reconnects_with_backoff(
    godot: Godot, tmp_path: Path
) -> None:
    import_project()
    from websockets.asyncio.server import ServerConnection, serve

    from server.protocol import ChunkSubscribe, Goodbye, JoinAccepted, Welcome, decode, encode
    from shared_gen.solar_system import get_planet

    radius = float(get_planet(WORLD_SEED, PLANET).radius_m)
    spawn = (radius + 30.0, 0.0, 0.0)
    welcome = encode(Welcome(1, 1, 20, 65536, "scripted"))
    accepted = encode(JoinAccepted(3, 0, WORLD_SEED, PLANET, 100, spawn, (0.0, 0.0, 0.0, 1.0),
                                   2, (0, 0)))
    sessions: list[dict[str, Any]] = []

    async def handler(ws: ServerConnection) -> None:
        n = len(sessions)
        rec: dict[str, Any] = {"t": asyncio.get_running_loop().time(), "received": []}
        sessions.append(rec)
        for _ in range(2):  # HELLO, JOIN
            first = await ws.recv()
            assert isinstance(first, bytes)
            rec["received"].append(decode(first).OPCODE.name)
        kind = BAD_SESSIONS[n][0] if n < len(BAD_SESSIONS) else "good"
        rec["kind"] = kind
        if kind == "unknown_opcode":
            await ws.send(b"\xff\x00")
        elif kind == "text_frame":
            await ws.send("hello")
        elif kind == "truncated_welcome":
            await ws.send(welcome[:-3])
        elif kind == "nan_in_join_accepted":
            await ws.send(welcome)
            bad = bytearray(accepted)
            bad[24:32] = bytes.fromhex("000000000000f87f")  # position.x = NaN
            await ws.send(bytes(bad))
        else:
            await ws.send(welcome)
            await ws.send(accepted)
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    msg = decode(frame)
                    rec["received"].append(msg.OPCODE.name)
                    if isinstance(msg, Goodbye):
                        rec["goodbye"] = msg.code
                    if isinstance(msg, ChunkSubscribe):
                        rec["subscribed"] = rec.get("subscribed", 0) + len(msg.coords)
        except Exception as exc:
            rec["error"] = repr(exc)
        rec["close_code"] = ws.close_code

    report_path = tmp_path / "report.json"
    actions = {"output": str(report_path), "actions": [
        {"do": "connect", "timeout": 60}, {"do": "quit"}]}
    actions_path = tmp_path / "actions.json"
    actions_path.write_text(json.dumps(actions), encoding="utf-8")
    log_path = tmp_path / "godot.log"
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        cmd = [str(GODOT), *HEADLESS, "--path", str(PROJECT_DIR), "res://net/autotest.tscn",
               "--", "--server", f"ws://127.0.0.1:{port}", "--world-seed", str(WORLD_SEED),
               "--planet", str(PLANET), "--view-radius", "1", "--autotest", str(actions_path)]
        with log_path.open("w") as log:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
        try:
            rep = await wait_for_report(report_path, lambda r: bool(r.get("done"))
                                        or bool(r.get("error")), proc, 120)
            for _ in range(50):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    log_text = log_path.read_text(errors="replace")
    assert rep.get("done"), f"{rep.get('error')}\n{log_text[-4000:]}"
    assert proc.returncode == 0, log_text[-4000:]
    assert "SCRIPT ERROR" not in log_text, log_text[-4000:]
    assert len(sessions) == len(BAD_SESSIONS) + 1, sessions
    for rec, (kind, code) in zip(sessions, BAD_SESSIONS, strict=False):
        assert rec["received"][:2] == ["HELLO", "JOIN"], rec
        assert rec.get("goodbye") == code, (kind, rec)
        assert rec["close_code"] == code, (kind, rec)
    assert sessions[-1]["kind"] == "good" and sessions[-1].get("subscribed", 0) > 0, sessions[-1]
    # exponential backoff with jitter: the k-th wait is in [0.5, 1] x 0.5 s x 2^k
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(sessions)]
    for k, gap in enumerate(gaps):
        base = 0.5 * 2**k
        assert 0.5 * base - 0.05 <= gap <= base + 1.5, (k, gaps)
    print(f"\nreconnect gaps (s): {', '.join(f'{g:.2f}' for g in gaps)}")


@pytest.mark.timeout(300)
async def test_godot_client_rejoins_after_a_server_restart(godot: Godot, tmp_path: Path) -> None:
    """The server stops (GOODBYE 1001) and starts again on the same port and data: the
    client reconnects with backoff, joins again, re-subscribes and shows the persisted
    voxels of its edit (which the Python observer also sees)."""
    import_project()
    data = tmp_path / "data"
    server = start_server(data, WORLD_SEED, PLANET)
    port = server.port
    report_path = tmp_path / "report.json"
    actions = {"output": str(report_path), "actions": [
        {"do": "connect", "timeout": 60},
        {"do": "dig", "depth_m": 1.0, "radius": 1.5, "timeout": 240},
        {"do": "wait_edit", "expect": "accepted", "timeout": 30},
        {"do": "wait_synced", "timeout": 120},
        {"do": "report", "name": "own_edit"},
        {"do": "wait_rejoin", "name": "rejoined", "timeout": 90},
        {"do": "quit"},
    ]}
    actions_path = tmp_path / "actions.json"
    actions_path.write_text(json.dumps(actions), encoding="utf-8")
    log_path = tmp_path / "godot.log"
    cmd = [str(GODOT), *HEADLESS, "--path", str(PROJECT_DIR), "res://net/autotest.tscn", "--",
           "--server", server.url, "--world-seed", str(WORLD_SEED), "--planet", str(PLANET),
           "--view-radius", str(VIEW_RADIUS), "--autotest", str(actions_path)]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    restarted: ServerProcess | None = None
    observer: GameClient | None = None
    try:
        rep = await wait_for_report(report_path, lambda r: "own_edit" in r.get("phases", {})
                                    or bool(r.get("error")), proc, GODOT_TIMEOUT_S)
        assert "own_edit" in rep.get("phases", {}), rep.get("error")
        assert server.stop() == 0
        restarted = start_server(data, WORLD_SEED, PLANET, port=port)
        rep = await wait_for_report(report_path, lambda r: bool(r.get("done"))
                                    or bool(r.get("error")), proc, GODOT_TIMEOUT_S)
        log_text = log_path.read_text(errors="replace")
        assert rep.get("done"), f"{rep.get('error')}\n{log_text[-4000:]}"
        own, again = rep["phases"]["own_edit"], rep["phases"]["rejoined"]
        assert again["reconnect_delays_s"], "reconnected after backoff"
        observer = await GameClient.connect(restarted.url, name="e2e-observer")
        await observer.join()
        for x, y, z, version in rep["edit"]["chunk_versions"]:
            coord, key = (x, y, z), _key((x, y, z))
            assert again["versions"][key] == version, "the edit survived the restart"
            assert again["voxels"][key] == own["voxels"][key]
            await observer.subscribe([coord])
            await observer.wait_chunk(coord, version, timeout=30)
            assert _sha(*observer.voxels(coord)) == again["voxels"][key]
        print(f"\nrejoined {again['rejoin_s']:.2f} s after the loss; backoff delays "
              f"{[round(d, 2) for d in again['reconnect_delays_s']]}")
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if observer is not None:
            await observer.close()
        server.stop()
        if restarted is not None:
            restarted.stop()


# --- through the orchestrator: bootstrap, ticket join, dig, transfer to planet-1 ------------


@pytest.mark.timeout(600)
async def test_godot_client_joins_through_the_orchestrator_and_transfers(
    godot: Godot, tmp_path: Path
) -> None:
    import_project()
    orch = start_orchestrator(tmp_path / "data", WORLD_SEED)
    godot_proc: subprocess.Popen[str] | None = None
    observer: GameClient | None = None
    log_path = tmp_path / "godot.log"
    report_path = tmp_path / "report.json"
    go_path = tmp_path / "go-transfer"
    actions = {
        "output": str(report_path),
        "actions": [
            {"do": "connect", "timeout": 90},
            {"do": "dig", "via_tool": True, "depth_m": 1.0, "offset_m": -2.5, "timeout": 240},
            {"do": "wait_edit", "expect": "accepted", "timeout": 30},
            {"do": "wait_synced", "timeout": 120},
            {"do": "report", "name": "own_edit"},
            {"do": "wait_file", "path": str(go_path), "timeout": 120},
            {"do": "transfer", "name": "transfer", "to": "planet-1", "timeout": 240},
            {"do": "quit"},
        ],
    }
    actions_path = tmp_path / "actions.json"
    actions_path.write_text(json.dumps(actions), encoding="utf-8")
    cmd = [str(GODOT), *HEADLESS, "--path", str(PROJECT_DIR), "res://net/autotest.tscn", "--",
           "--server", orch.url, "--world-seed", str(WORLD_SEED), "--planet", str(PLANET),
           "--view-radius", str(VIEW_RADIUS), "--autotest", str(actions_path)]

    def log_tail() -> str:
        godot_log = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        return f"{godot_log}\n--- orchestrator\n" + "\n".join(orch.raw[-30:])

    try:
        with log_path.open("w") as log:
            godot_proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log,
                                          stderr=subprocess.STDOUT, text=True,
                                          start_new_session=True)
        rep = await wait_for_report(report_path, lambda r: "own_edit" in r.get("phases", {})
                                    or bool(r.get("error")), godot_proc, GODOT_TIMEOUT_S)
        assert "own_edit" in rep.get("phases", {}), f"{rep.get('error')}\n{log_tail()}"
        joined = rep["joined"]
        assert joined["version"] == 3, joined
        assert joined["map_id"] == "planet-0" and joined["planet_index"] == 0, joined
        assert joined["world_seed"] == WORLD_SEED, joined
        offer = joined["bootstrap"]
        assert offer["mapId"] == "planet-0" and offer["endpoint"].startswith("ws://"), offer
        assert joined["url"] == offer["endpoint"], "joined the endpoint the bootstrap named"

        # --- a Python observer, also through the orchestrator, sees the Godot client's dig
        edit = rep["edit"]
        assert edit["accepted"] and edit["via"] == "tool", edit
        assert edit["chunk_versions"], "the dig changed chunks"
        own = rep["phases"]["own_edit"]
        observer, obs_joined = await connect_via_orchestrator(orch.url, name="e2e-observer")
        assert obs_joined.planet_index == 0 and obs_joined.world_seed == WORLD_SEED
        coords = [(x, y, z) for x, y, z, _v in edit["chunk_versions"]]
        await observer.subscribe(coords)
        for x, y, z, version in edit["chunk_versions"]:
            coord, key = (x, y, z), _key((x, y, z))
            await observer.wait_chunk(coord, version, timeout=30)
            assert own["versions"][key] == observer.chunks[coord].version == version
            assert own["voxels"][key] == _sha(*observer.voxels(coord)), (
                f"voxels of {coord} differ from Python's")

        # --- the Godot client transfers to planet-1 -------------------------------------
        go_path.write_text("go", encoding="utf-8")
        rep = await wait_for_report(report_path, lambda r: bool(r.get("done"))
                                    or bool(r.get("error")), godot_proc, GODOT_TIMEOUT_S)
        assert rep.get("done"), f"{rep.get('error')}\n{log_tail()}"
        transfer = rep["phases"]["transfer"]
        assert transfer["transfer_to"].startswith("planet-1 ws://"), transfer
        after = transfer["joined"]
        assert after["planet_index"] == 1, transfer
        assert after["world_seed"] == WORLD_SEED and after["map_id"] == "planet-1", transfer
        assert after["url"] != joined["url"], "planet-1 has its own map process"
        assert transfer["terrain_planet"] == 1, "the terrain shows planet 1"
        print(f"\norchestrator join {joined['seconds']:.2f} s after start; transfer to "
              f"planet-1 joined after {transfer['seconds']:.2f} s, its terrain around the "
              f"spawn after {transfer['terrain_seconds']:.2f} s")
        assert godot_proc.wait(60) == 0, log_tail()
    finally:
        if godot_proc is not None and godot_proc.poll() is None:
            godot_proc.kill()
            godot_proc.wait(10)
        if observer is not None:
            await observer.close()
        orch.stop()
