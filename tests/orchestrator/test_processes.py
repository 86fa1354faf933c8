"""Seed 004's acceptance criteria with real processes: ``planet-server serve`` (the
orchestrator), its map processes (``planet-server map``) and bots of the Python SDK,
all on 127.0.0.1 with free ports (tunables in process_support.FAST).

1 join lands on the default map; 2 a transfer keeps position, canisters and inventory;
3 a replayed transfer token is denied; 4 invalid / expired / misdirected tickets are
denied; 5 kill -9 of a map leaves the rest serving, restarts it with backoff, quarantines
it on the 4th crash in the window; 6 map processes never hold the database; 7 after
kill -9 of the orchestrator non-critical state rolls back at most to the checkpoint;
8 critical events acknowledged before kill -9 of the orchestrator survive it (20 rounds
here, 200 under ``-m stress``). Criterion 9 (same MapConfig -> same geometry on client
and server) is the generation cross-check of tests/gen_port.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from process_support import (
    below,
    dig,
    health,
    join,
    open_files,
    orchestrator,
    wait_gone,
    wait_map_pid,
    wait_map_state,
)

from server.client.client import ClientError, GameClient, bootstrap
from server.protocol import EditMode, ErrorCode

pytestmark = pytest.mark.timeout(300)


async def test_join_lands_on_default_map(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data") as orch:
        offer = await bootstrap(orch.url, "player-one")
        assert offer.map_id == "planet-0" and offer.endpoint.startswith("ws://127.0.0.1:")
        assert offer.character_id is not None and not offer.disposable
        client = await GameClient.connect(offer.endpoint)
        joined = await client.join_with_ticket(offer.ticket)
        assert joined.planet_index == 0 and joined.character_id == offer.character_id
        await client.close()
        guest, gjoined = await join(orch, None, "guest")
        assert gjoined.planet_index == 0 and gjoined.character_id == 0
        await guest.close()
        # the same key is the same character after a reconnect
        again = await bootstrap(orch.url, "player-one")
        assert again.character_id == offer.character_id


async def test_transfer_preserves_position_and_canisters(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data") as orch:
        client, joined = await join(orch, "traveller")
        result = await dig(client, joined)
        assert result.soil_total > 0
        # move a little, so the position is not just the spawn point
        moved = tuple(v * 1.000_05 for v in joined.position)
        await client.send_transform(moved)  # type: ignore[arg-type]
        await client.ping()
        order = await client.request_transfer("planet-1")
        assert order.to_map_id == "planet-1"
        client2, joined2 = await client.follow_transfer(order)
        assert joined2.planet_index == 1 and joined2.character_id == joined.character_id
        assert sum(joined2.canisters) == result.soil_total
        # and back: the position on planet-0 is where the character left it
        order2 = await client2.request_transfer("planet-0")
        client3, joined3 = await client2.follow_transfer(order2)
        assert joined3.planet_index == 0
        assert math.dist(joined3.position, moved) < 1e-3
        assert sum(joined3.canisters) == result.soil_total
        await client3.close()
        # a fresh bootstrap returns the character to the map it was last on
        client4, joined4 = await join(orch, "traveller")
        assert joined4.planet_index == 0 and sum(joined4.canisters) == result.soil_total
        await client4.close()
        # the raw auth key never reaches a log line (only its HMAC is kept)
        assert not [line for line in orch.raw if "traveller" in line]
        # a disposable (keyless) session keeps its canisters across a transfer too
        guest, gjoined = await join(orch, None, "guest")
        gresult = await dig(guest, gjoined, depth_m=2.0)
        gorder = await guest.request_transfer("planet-1")
        guest2, gjoined2 = await guest.follow_transfer(gorder)
        assert gjoined2.planet_index == 1 and gjoined2.character_id == 0
        assert sum(gjoined2.canisters) == gresult.soil_total > 0
        await guest2.close()


async def test_transfer_token_replay_denied(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data") as orch:
        client, _ = await join(orch, "replayer")
        order = await client.request_transfer("planet-1")
        moved, joined = await client.follow_transfer(order)
        assert joined.planet_index == 1
        thief = await GameClient.connect(order.endpoint)
        with pytest.raises(ClientError) as e:
            await thief.join_with_ticket(order.token)
        assert e.value.code == ErrorCode.TICKET_DENIED
        assert "REPLAYED" in e.value.reason and "/orch/bootstrap" in e.value.reason
        await moved.ping()  # the rightful session is unaffected
        await moved.close()


async def test_invalid_expired_and_misdirected_tickets_denied(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data", orch_join_ticket_ttl_ms=400) as orch:
        async def denied(endpoint: str, ticket: str) -> str:
            c = await GameClient.connect(endpoint)
            with pytest.raises(ClientError) as e:
                await c.join_with_ticket(ticket)
            assert e.value.code == ErrorCode.TICKET_DENIED
            return e.value.reason

        offer = await bootstrap(orch.url, "someone")
        head, _, mac = offer.ticket.rpartition(".")
        forged = f"{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
        assert denied_reason_startswith(await denied(offer.endpoint, forged), "BAD_SIGNATURE")
        assert denied_reason_startswith(await denied(offer.endpoint, "garbage!"), "MALFORMED")
        await asyncio.sleep(0.6)  # past the 400 ms TTL
        assert denied_reason_startswith(await denied(offer.endpoint, offer.ticket), "EXPIRED")
        # a plain JOIN (auth key) is not accepted by a map process
        c = await GameClient.connect(offer.endpoint)
        with pytest.raises(ClientError) as e:
            await c.join(auth_key="someone")
        assert e.value.code == ErrorCode.TICKET_DENIED
        assert e.value.reason.startswith("TICKET_REQUIRED")
        # a ticket for planet-0 presented at planet-1
        mover, _ = await join(orch, "mover")
        order = await mover.request_transfer("planet-1")
        fresh = await bootstrap(orch.url, "someone")
        reason = await denied(order.endpoint, fresh.ticket)
        assert denied_reason_startswith(reason, "WRONG_TARGET")
        await mover.close()


def checkpointed_revision(db: Path, partition: str) -> int:
    """The revision of ``partition`` in the database's ``map_snapshot`` table (-1: none)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        try:
            row = con.execute("SELECT revision FROM map_snapshot WHERE partition = ?",
                              (partition,)).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return -1
    return int(row[0]) if row else -1


def checkpointed_chunk_version(db: Path, coord: tuple[int, int, int]) -> int:
    """The version of a chunk in the database's ``chunk_delta`` table (-1: none)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        try:
            row = con.execute("SELECT version FROM chunk_delta WHERE cx = ? AND cy = ? AND "
                              "cz = ?", coord).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return -1
    return int(row[0]) if row else -1


def denied_reason_startswith(reason: str, code: str) -> bool:
    assert reason.startswith(code), reason
    return True


async def test_map_crash_restart_and_quarantine(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data") as orch:
        stay, sjoined = await join(orch, "stays-on-0")
        mover, _ = await join(orch, "goes-to-1")
        order = await mover.request_transfer("planet-1")  # spawns planet-1 lazily
        moved, _ = await mover.follow_transfer(order)
        pid = wait_map_pid(orch, "planet-1")
        pid0 = orch.map_pids()["planet-0"]
        for crash in range(4):
            os.kill(pid, signal.SIGKILL)
            # the orchestrator keeps answering, planet-0 keeps serving its player
            assert (await health(orch))["status"] == "ok"
            await dig(stay, sjoined, depth_m=1.0 + 0.5 * crash, radius_m=0.8)
            if crash < 3:
                pid = wait_map_pid(orch, "planet-1", not_pid=pid)
                await wait_map_state(orch, "planet-1", "healthy")
        await wait_map_state(orch, "planet-1", "quarantined", timeout_s=10)
        assert orch.map_pids()["planet-0"] == pid0 and orch.alive()
        with pytest.raises(ClientError) as e:
            await stay.request_transfer("planet-1")
        assert e.value.code == ErrorCode.TRANSFER_REFUSED
        assert "QUARANTINED" in e.value.reason
        await stay.ping()  # a refused transfer leaves the session open
        await stay.close()
        with pytest.raises(Exception):  # noqa: B017 - the old session went with its map
            await moved.ping(timeout=2.0)
        downs = [r for r in orch.events("map_down") if r.get("map_id") == "planet-1"]
        assert len(downs) >= 4


async def test_only_the_orchestrator_holds_the_database(tmp_path: Path) -> None:
    with orchestrator(tmp_path / "data") as orch:
        client, joined = await join(orch, "writer")
        await dig(client, joined)
        order = await client.request_transfer("planet-1")
        moved, _ = await client.follow_transfer(order)
        maps = orch.map_pids()
        assert set(maps) == {"planet-0", "planet-1"}
        db = str(tmp_path / "data" / "world.db")
        assert any(p.startswith(db) for p in open_files(orch.proc.pid))
        for map_id, pid in maps.items():
            held = [p for p in open_files(pid) if "world.db" in p]
            assert held == [], f"{map_id} holds {held}"
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert not [v for v in environ if v.startswith((b"PLANET_DATABASE_URL=",
                                                             b"PLANET_DATA_DIR="))]
        # and from the maps' own side: no database module was ever imported
        for rec in orch.events("ready"):
            if "control_url" in rec:
                import httpx
                from process_support import SECRET
                async with httpx.AsyncClient(headers={"X-Internal-Secret": SECRET}) as h:
                    r = await h.get(rec["control_url"] + "/health")
                    body = r.json()
                    if body.get("status") == "ok":
                        assert body["databaseModules"] == [], body
        await moved.close()


async def test_noncritical_state_rolls_back_at_most_to_checkpoint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = {"orch_checkpoint_ms": 500, "orch_map_snapshot_push_ms": 100}
    with orchestrator(data, **settings) as orch:
        client, joined = await join(orch, "digger")
        first = await dig(client, joined)
        coord, version = sorted(first.chunk_versions)[0]
        # wait for the checkpoint that holds the edit (push 100 ms + checkpoint 500 ms)
        deadline = time.monotonic() + 30
        while checkpointed_chunk_version(data / "world.db", coord) < version:
            assert time.monotonic() < deadline, "the edit never reached a checkpoint"
            await asyncio.sleep(0.1)
        second = await dig(client, joined, depth_m=2.5)  # after the checkpoint: may be lost
        assert second.accepted
        pids = list(orch.map_pids().values())
        orch.kill()
        assert wait_gone(pids, 10.0), "map processes outlived the orchestrator"
    with orchestrator(data, **settings) as orch:
        client, joined = await join(orch, "digger")
        await client.subscribe([coord])
        await client.wait_chunk(coord, version, timeout=20)
        assert client.chunks[coord].version >= version
        await client.close()


@pytest.mark.parametrize("rounds", [pytest.param(20, id="ci-20"),
                                    pytest.param(200, id="stress-200",
                                                 marks=[pytest.mark.stress,
                                                        pytest.mark.timeout(1800)])])
async def test_critical_events_survive_orchestrator_kill(tmp_path: Path, rounds: int) -> None:
    data = tmp_path / "data"
    expected = 0
    for n in range(rounds):
        with orchestrator(data) as orch:
            client, joined = await join(orch, "hoarder")
            assert sum(joined.canisters) == expected, f"round {n}: soil lost or invented"
            if expected < 16_000:  # fill the canisters, then empty them again
                result = await dig(client, joined, depth_m=1.0 + (n % 5) * 0.3, radius_m=1.0)
            else:
                result = await client.edit(EditMode.ELEVATE, below(joined.position, -1.5),
                                           1.0)
                assert result.accepted, result
            expected = result.soil_total  # acknowledged: durable before EDIT_RESULT
            assert result.soil_delta != 0
            pids = list(orch.map_pids().values())
            orch.kill()
            wait_gone(pids, 10.0)
    with orchestrator(data) as orch:
        _, joined = await join(orch, "hoarder")
        assert sum(joined.canisters) == expected


async def test_orchestrator_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The engine is chosen by URL: the whole topology on PostgreSQL, including a transfer
    and critical events surviving kill -9 of the orchestrator."""
    data = tmp_path / "data"
    with orchestrator(data, database_url=pg_url) as orch:
        assert orch.ready_record["database"] == "postgresql+psycopg"
        client, joined = await join(orch, "pg-player")
        result = await dig(client, joined)
        order = await client.request_transfer("planet-1")
        _moved, joined1 = await client.follow_transfer(order)
        assert sum(joined1.canisters) == result.soil_total
        pids = list(orch.map_pids().values())
        orch.kill()
        wait_gone(pids, 10.0)
    assert not (data / "world.db").exists()  # nothing went to SQLite
    with orchestrator(data, database_url=pg_url) as orch:
        _, joined = await join(orch, "pg-player")
        assert sum(joined.canisters) == result.soil_total


async def test_clean_stop_loses_nothing(tmp_path: Path) -> None:
    """SIGINT: every map says GOODBYE 1001 and pushes its last snapshots, the orchestrator
    checkpoints and exits 0; a restart has the terrain and the character's pose."""
    data = tmp_path / "data"
    with orchestrator(data) as orch:  # default 5 min checkpoint: only the stop writes
        client, joined = await join(orch, "tidy")
        result = await dig(client, joined)
        coord, version = sorted(result.chunk_versions)[0]
        moved = tuple(v * 1.000_05 for v in joined.position)
        await client.send_transform(moved)  # type: ignore[arg-type]
        await client.ping()
        pids = list(orch.map_pids().values())
        assert orch.stop(signal.SIGINT, timeout=20) == 0
        assert wait_gone(pids, 10.0)
        for _ in range(100):
            if client.closed:
                break
            await asyncio.sleep(0.05)
        assert client.close_code == 1001, client.close_code
    with orchestrator(data) as orch:
        client, joined = await join(orch, "tidy")
        assert math.dist(joined.position, moved) < 1e-3
        assert sum(joined.canisters) == result.soil_total
        await client.subscribe([coord])
        await client.wait_chunk(coord, version, timeout=20)
        assert client.chunks[coord].version == version
        await client.close()


async def test_hung_map_is_replaced_after_heartbeat_timeout(tmp_path: Path) -> None:
    """A map process that stops answering (SIGSTOP: alive, no heartbeats) is unhealthy
    after ORCH_HEARTBEAT_TIMEOUT_MS (3 s here), killed and restarted; its control app,
    like every internal route, refuses requests without the secret."""
    import httpx

    with orchestrator(tmp_path / "data") as orch:
        ready = [r for r in orch.events("ready") if r.get("map_id") == "planet-0"]
        control_url = ready[-1]["control_url"]
        async with httpx.AsyncClient() as h:
            assert (await h.get(control_url + "/health")).status_code == 403
            r = await h.post(orch.control_url + "/orch/rehydrate",
                             json={"mapId": "planet-0", "instanceId": "x"})
            assert r.status_code == 403 and r.json()["reason"] == "BAD_SECRET"
        pid = orch.map_pids()["planet-0"]
        t0 = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        try:
            new = wait_map_pid(orch, "planet-0", timeout_s=30, not_pid=pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        waited = time.monotonic() - t0
        assert 2.5 < waited < 30, waited  # not before the 3 s timeout
        assert any(r.get("reason") == "heartbeat timeout" for r in orch.events("map_down"))
        await wait_map_state(orch, "planet-0", "healthy")
        client, joined = await join(orch, "after-hang")
        assert joined.planet_index == 0 and orch.map_pids()["planet-0"] == new
        await client.close()


async def test_a_single_mode_world_is_served_by_the_orchestrator(tmp_path: Path) -> None:
    """Chunk deltas live in ``chunk_delta`` in both topologies: terrain edited under
    ``serve --single`` is there when ``serve`` (orchestrator + maps) opens the same data,
    and the orchestrator's checkpoints write new edits back to that table."""
    from server_process import ServerProcess, server_env

    data = tmp_path / "data"
    single = ServerProcess(data, server_env(), [])
    try:
        c = await GameClient.connect(single.url)
        j = await c.join(auth_key="old-timer")
        first = await dig(c, j)
        await c.close()
    finally:
        assert single.stop() == 0
    coord, version = sorted(first.chunk_versions)[0]
    with orchestrator(data) as orch:
        client, _ = await join(orch, None)
        await client.subscribe([coord])
        await client.wait_chunk(coord, version, timeout=20)
        assert client.chunks[coord].version == version
        await client.close()
    part = f"chunk:{coord[0]},{coord[1]},{coord[2]}"
    assert checkpointed_revision(data / "world.db", part) == -1  # not in map_snapshot
    assert checkpointed_chunk_version(data / "world.db", coord) == version
