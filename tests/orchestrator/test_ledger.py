"""The ledger on SQLite (WAL) and PostgreSQL: critical events durable before the ack and
idempotent, snapshots by revision, checkpoints, rehydrate, survival of SIGKILL."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from server.orchestrator.ledger import (
    AsyncLedger,
    CriticalEventIn,
    EventConflictError,
    IngestResult,
    InventoryOp,
    InventoryUnderflowError,
    Ledger,
)
from server.persistence.models import ChunkDelta
from server.persistence.orchestrator_models import MapSnapshot

INST = "planet-0.i0.abcd"


def ev(i: int, *, partition: str = "character:k", revision: int | None = None,
       ops: tuple[InventoryOp, ...] = (), kind: str = "spend") -> CriticalEventIn:
    return CriticalEventIn(event_id=f"e{i}", instance_id=INST, partition=partition,
                           revision=i if revision is None else revision, kind=kind,
                           payload={"i": i}, inventory_ops=ops)


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


def test_sqlite_runs_wal_and_full_sync(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    with led.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    led.close()


def test_critical_event_idempotent_by_event_id(ledger):
    a = ledger.append_critical(ev(1))
    b = ledger.append_critical(ev(1))
    assert b.seq == a.seq and b.duplicate and not a.duplicate
    assert ledger.event_count() == 1
    with pytest.raises(EventConflictError):
        ledger.append_critical(CriticalEventIn("e1", INST, "character:k", 1, "spend", {"i": 2}))
    assert ledger.event_count() == 1


def test_group_commit_mixes_acks_and_refusals(ledger):
    give = InventoryOp("k", 0, "ore", 5)
    take = InventoryOp("k", 0, "ore", -3)
    overdraw = InventoryOp("k", 0, "ore", -10)
    res = ledger.append_critical_many([ev(1, ops=(give,)), ev(2, ops=(take,)),
                                       ev(3, ops=(overdraw,)), ev(1, ops=(give,)), ev(4)])
    assert [type(r).__name__ for r in res] == ["CriticalAck", "CriticalAck",
                                               "InventoryUnderflowError", "CriticalAck",
                                               "CriticalAck"]
    assert res[3].duplicate and res[3].seq == res[0].seq
    assert ledger.inventory("k") == {0: ("ore", 2)}
    assert ledger.event_ids() == {"e1", "e2", "e4"}
    with pytest.raises(InventoryUnderflowError):
        ledger.append_critical(ev(5, ops=(InventoryOp("k", 0, "wood", 1),)))


def test_snapshot_ingest_ignores_stale_and_duplicates(ledger):
    assert ledger.ingest_snapshot(INST, "chunks", 5, b"five") is IngestResult.ACCEPTED
    assert ledger.ingest_snapshot(INST, "chunks", 5, b"five") is IngestResult.DUPLICATE
    assert ledger.ingest_snapshot(INST, "chunks", 4, b"four") is IngestResult.STALE
    assert ledger.ingest_snapshot(INST, "chunks", 5, b"other") is IngestResult.STALE
    assert ledger.ingest_snapshot(INST, "chunks", 6, b"six") is IngestResult.ACCEPTED
    assert ledger.latest_snapshot(INST, "chunks").payload == b"six"
    assert ledger.dirty_count() == 1


def test_checkpoint_and_rehydrate(ledger_url):
    led = Ledger(ledger_url)
    led.ingest_snapshot(INST, "character:k", 10, b"rev10", server_time_ms=123)
    led.ingest_snapshot(INST, "chunks", 3, b"c3")
    led.append_critical(ev(1, revision=9))    # included in the rev-10 snapshot
    led.append_critical(ev(2, revision=11))   # after it
    cp = led.checkpoint()
    assert cp.snapshots_written == 2 and cp.last_event_seq >= 2
    cp2 = led.checkpoint()
    assert cp2.snapshots_written == 0 and cp2.checkpoint_id > cp.checkpoint_id  # nothing new
    # after the checkpoint: a newer snapshot (lost in the crash) and a critical event (kept)
    led.ingest_snapshot(INST, "character:k", 12, b"rev12")
    led.append_critical(ev(3, revision=13))
    led.close()  # "crash": memory is gone

    led = Ledger(ledger_url)
    r = led.rehydrate(INST)
    assert r.checkpoint is not None and r.checkpoint.checkpoint_id == cp2.checkpoint_id
    assert r.snapshots[(INST, "character:k")].payload == b"rev10"   # rolled back to checkpoint
    assert r.snapshots[(INST, "character:k")].server_time_ms == 123
    assert [e.event_id for e in r.events] == ["e2", "e3"]           # critical ones survive
    assert r.events[0].payload == {"i": 2}
    # stale detection survives the restart
    assert led.ingest_snapshot(INST, "character:k", 10, b"rev10") is IngestResult.DUPLICATE
    assert led.ingest_snapshot(INST, "character:k", 9, b"x") is IngestResult.STALE
    assert led.rehydrate("other").snapshots == {}
    led.close()


def test_chunk_partitions_checkpoint_into_chunk_delta(ledger_url):
    """A registered instance's ``chunk:`` partitions are written to ``chunk_delta`` (the
    table ``serve --single`` uses), read back after a restart, and character partitions
    and the newest revision rule are unchanged."""
    led = Ledger(ledger_url)
    led.register_map_instance(instance_id=INST, map_id="planet-0", world_seed=1,
                              planet_index=0, config_json="{}", config_hash="0" * 64)
    led.ingest_snapshot(INST, "chunk:1,-2,3", 4, b"v4")
    led.ingest_snapshot(INST, "chunk:1,-2,3", 5, b"v5")
    led.ingest_snapshot(INST, "chunk:0,0,0", 1, b"v1")
    led.ingest_snapshot("unregistered", "chunk:9,9,9", 1, b"kept as a snapshot")
    assert led.checkpoint().snapshots_written == 3
    # checkpointed chunk bytes leave memory; reads go to chunk_delta
    assert led._snaps[(INST, "chunk:1,-2,3")].payload is None
    assert led.latest_snapshot(INST, "chunk:1,-2,3").payload == b"v5"
    assert led.ingest_snapshot(INST, "chunk:1,-2,3", 5, b"v5") is IngestResult.DUPLICATE
    with Session(led.engine) as s:
        rows = {(r.cx, r.cy, r.cz): (r.version, r.payload) for r in s.exec(select(ChunkDelta))}
        assert rows == {(1, -2, 3): (5, b"v5"), (0, 0, 0): (1, b"v1")}
        assert [r.partition for r in s.exec(select(MapSnapshot))] == ["chunk:9,9,9"]
    led.close()
    led = Ledger(ledger_url)  # restart: chunk deltas come back as the instance's snapshots
    live = led.live_snapshots(INST)
    assert live["chunk:1,-2,3"].revision == 5 and live["chunk:1,-2,3"].payload == b"v5"
    assert led.rehydrate(INST).snapshots[(INST, "chunk:0,0,0")].payload == b"v1"
    assert led.ingest_snapshot(INST, "chunk:1,-2,3", 4, b"v4") is IngestResult.STALE
    assert led.ingest_snapshot(INST, "chunk:1,-2,3", 6, b"v6") is IngestResult.ACCEPTED
    assert led.live_snapshots(INST)["chunk:1,-2,3"].payload == b"v6"  # newer, in memory
    led.close()


def test_transfers_and_map_instances(ledger):
    ledger.record_transfer(transfer_id="t1", character_key="k", from_map="a", to_map="b",
                           state="token_issued")
    ledger.record_transfer(transfer_id="t1", character_key="k", from_map="a", to_map="b",
                           state="aborted", reason="TIMEOUT")
    assert ledger.transfer_state("t1") == "aborted"
    for _ in range(2):
        ledger.register_map_instance(instance_id=INST, map_id="planet-0", world_seed=1,
                                     planet_index=0, config_json="{}", config_hash="0" * 64)
    cid = ledger.resolve_character("h" * 64, world_seed=1, planet_index=0)
    assert ledger.resolve_character("h" * 64, world_seed=1, planet_index=0) == cid
    assert ledger.resolve_character("g" * 64, world_seed=1, planet_index=0) != cid


async def test_async_ledger_groups_concurrent_events(ledger):
    aled = AsyncLedger(ledger)
    acks = await asyncio.gather(*(aled.append_critical(ev(i)) for i in range(50)),
                                aled.append_critical(ev(7)))
    assert len({a.seq for a in acks}) == 50 and acks[-1].duplicate
    with pytest.raises(InventoryUnderflowError):
        await aled.append_critical(ev(99, ops=(InventoryOp("z", 0, "ore", -1),)))
    assert await aled.call(ledger.event_count) == 50
    await aled.close()


# --- durability across SIGKILL ----------------------------------------------------------


def _writer(url: str, start: int, fd: int) -> None:  # runs in the forked child
    led = Ledger(url, migrate=False)
    i = start
    while True:
        led.append_critical(ev(i, ops=(InventoryOp("k", 0, "ore", 1),)))
        os.write(fd, f"{i}\n".encode())  # the ack left the ledger
        i += 1


def _kill_after_acks(url: str, start: int, n_acks: int) -> list[int]:
    r, w = os.pipe()
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_writer, args=(url, start, w), daemon=True)
    p.start()
    os.close(w)
    buf = b""
    while buf.count(b"\n") < n_acks:
        chunk = os.read(r, 4096)
        assert chunk, "writer died before being killed"
        buf += chunk
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    while chunk := os.read(r, 4096):  # acks written before the kill
        buf += chunk
    os.close(r)
    assert p.exitcode == -signal.SIGKILL
    return [int(x) for x in buf.split()]


def _sigkill_rounds(url: str, rounds: int) -> None:
    Ledger(url).close()  # migrate once
    rng = random.Random(4)
    acked: list[int] = []
    start = 0
    for _ in range(rounds):
        got = _kill_after_acks(url, start, rng.randint(1, 12))
        acked += got
        start += 1000
    led = Ledger(url)
    try:
        stored = led.event_ids()
        missing = [i for i in acked if f"e{i}" not in stored]
        assert not missing, f"acked but lost: {missing[:10]}"
        assert led.inventory("k")[0][1] == len(stored)  # event and inventory in one commit
        if led.engine.dialect.name == "sqlite":
            with led.engine.connect() as c:
                assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        led.close()


def test_acked_events_survive_sigkill(ledger_url):
    _sigkill_rounds(ledger_url, 20)


@pytest.mark.stress
def test_acked_events_survive_sigkill_stress(ledger_url):
    _sigkill_rounds(ledger_url, 200)
