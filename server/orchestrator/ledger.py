"""The orchestrator's ledger: the single writer of the host database (seed 004,
"Persistence Strategy").

* **Critical events** (item ownership/value transfer, spend/drop/trade, transfer commit
  points): :meth:`Ledger.append_critical` commits before it returns the ack; SQLite runs
  WAL with ``synchronous=FULL`` (the WAL is fsync'd at every commit), PostgreSQL its
  default ``synchronous_commit=on``. Idempotent by ``event_id``: a retry gets the first
  ack back (``duplicate=True``); the same id with different content is an
  :class:`EventConflictError`. Inventory operations carried by an event are applied in the same
  transaction (a quantity may not go below zero: :class:`InventoryUnderflowError`).
  :meth:`append_critical_many` is the group commit (one transaction for a batch).
* **Snapshots** per partition (``(instance_id, partition)``, e.g. ``("planet-0.i0.x",
  "character:<key>")``): :meth:`ingest_snapshot` keeps the newest revision in memory
  (idempotent: an equal revision with equal payload is DUPLICATE, an older one STALE);
  :meth:`checkpoint` writes every newer one in one transaction (default every 5 min).
* **Crash recovery**: :meth:`rehydrate` = the checkpointed snapshots + every critical
  event newer (by revision) than its partition's snapshot, in commit order.

Not thread-safe: use it from one thread (``AsyncLedger`` runs it on one worker thread
and groups concurrent critical events into one commit). Errors of the database are
SQLAlchemy exceptions and propagate.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from server.persistence.engine import make_engine
from server.persistence.migrate import upgrade_to_head
from server.persistence.models import Character, ChunkDelta, Planet, utcnow
from server.persistence.orchestrator_models import (
    Checkpoint,
    CriticalEvent,
    HostSetting,
    Inventory,
    MapInstance,
    MapSnapshot,
    TransferRow,
)
from server.world.records import chunk_partition, parse_chunk_partition

T = TypeVar("T")

#: Partition prefix of a character's state (``character:<auth key hash>``).
CHARACTER_PARTITION = "character:"
#: The pseudo instance under which character partitions are kept: a character's state
#: belongs to the character, not to the map instance it happens to be on.
CHARACTERS_INSTANCE = "characters"


class LedgerError(RuntimeError):
    """A critical event the ledger refuses (nothing of it was written)."""


class EventConflictError(LedgerError):
    """The event id was used before with different content."""


class InventoryUnderflowError(LedgerError):
    """An inventory operation would take a quantity below zero."""


@dataclass(frozen=True, slots=True)
class InventoryOp:
    """Add ``delta`` (may be negative) of ``item_kind`` to a character's ``slot``."""

    character_key: str
    slot: int
    item_kind: str
    delta: int


@dataclass(frozen=True, slots=True)
class CriticalEventIn:
    """A critical event from a map process (``POST /orch/persist-critical-event``)."""

    event_id: str
    instance_id: str
    partition: str
    revision: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    inventory_ops: tuple[InventoryOp, ...] = ()

    def payload_json(self) -> str:
        body = {"payload": self.payload,
                "inventoryOps": [[o.character_key, o.slot, o.item_kind, o.delta]
                                 for o in self.inventory_ops]}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class CriticalAck:
    event_id: str
    seq: int
    duplicate: bool


class IngestResult(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"


@dataclass(slots=True)
class _Snap:
    """The newest revision of a partition. ``payload`` None: a chunk delta whose bytes are
    only in ``chunk_delta`` (checkpointed; read on demand, so the orchestrator's memory
    does not grow with every chunk ever modified)."""

    revision: int
    server_time_ms: int
    payload: bytes | None
    dirty: bool


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    revision: int
    server_time_ms: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    event_id: str
    instance_id: str
    partition: str
    revision: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    checkpoint_id: int
    snapshots_written: int
    last_event_seq: int


@dataclass(frozen=True, slots=True)
class Rehydrated:
    """What a restarted map instance starts from."""

    checkpoint: CheckpointInfo | None
    snapshots: dict[tuple[str, str], SnapshotRecord]
    events: list[StoredEvent]


def _sqlite_full_sync(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA synchronous=FULL")
    finally:
        cur.close()


class Ledger:
    """The single writer. Args: ``url`` (SQLAlchemy URL), ``migrate`` (upgrade head)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if self.engine.dialect.name == "sqlite":
            # After make_engine's pragmas (WAL, NORMAL): critical commits are fsync'd.
            sa_event.listen(self.engine, "connect", _sqlite_full_sync)
        if migrate:
            upgrade_to_head(self.engine)
        self._snaps: dict[tuple[str, str], _Snap] = {}
        #: map instance id -> id of its planet row (chunk partitions live in chunk_delta)
        self._instance_planet: dict[str, int] = {}
        with self._session() as s:
            for row in s.exec(select(MapSnapshot)):
                self._snaps[(row.instance_id, row.partition)] = _Snap(
                    row.revision, row.server_time_ms, row.payload, dirty=False)
            for mi in s.exec(select(MapInstance)):
                pid = self._planet_id(s, mi.world_seed, mi.planet_index, create=False)
                if pid is not None:
                    self._instance_planet[mi.instance_id] = pid
            for inst, pid in self._instance_planet.items():
                self._track_chunks(s, inst, pid)

    def _track_chunks(self, s: Session, instance_id: str, planet_id: int) -> None:
        """Know the version of every stored chunk delta of the instance's planet (its bytes
        stay in ``chunk_delta`` until asked for); newer ones held in memory are kept."""
        for cx, cy, cz, version in s.exec(
                select(ChunkDelta.cx, ChunkDelta.cy, ChunkDelta.cz, ChunkDelta.version)
                .where(ChunkDelta.planet_id == planet_id)):
            self._snaps.setdefault((instance_id, chunk_partition((cx, cy, cz))),
                                   _Snap(version, 0, None, False))

    @staticmethod
    def _planet_id(s: Session, world_seed: int, planet_index: int, *,
                   create: bool) -> int | None:
        """The ``planet`` row id of (seed, index); created (fresh salt) if ``create``."""
        planet = s.exec(select(Planet).where(Planet.world_seed == world_seed,
                                             Planet.planet_index == planet_index)).first()
        if planet is None:
            if not create:
                return None
            planet = Planet(world_seed=world_seed, planet_index=planet_index,
                            config_json="{}", key_salt=secrets.token_bytes(16))
            s.add(planet)
            s.flush()
        return planet.id

    def close(self) -> None:
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ---- critical events ----------------------------------------------------------
    def append_critical(self, ev: CriticalEventIn) -> CriticalAck:
        """Commit ``ev`` durably, then ack. Raises :class:`LedgerError` subclasses."""
        out = self.append_critical_many([ev])[0]
        if isinstance(out, LedgerError):
            raise out
        return out

    def append_critical_many(
        self, events: Sequence[CriticalEventIn]
    ) -> list[CriticalAck | LedgerError]:
        """Group commit: one transaction for ``events``; per event an ack or the error
        that refused it (refused events write nothing; the others commit)."""
        results: list[CriticalAck | LedgerError] = []
        with self._session() as s:
            ids = [e.event_id for e in events]
            known = {r.event_id: r for r in
                     s.exec(select(CriticalEvent).where(col(CriticalEvent.event_id).in_(ids)))}
            inv_keys = {(o.character_key, o.slot) for e in events for o in e.inventory_ops}
            inv: dict[tuple[str, int], Inventory] = {}
            for key in inv_keys:
                found = s.get(Inventory, key)
                if found is not None:
                    inv[key] = found
            new_rows: list[tuple[int, CriticalEvent, bool]] = []
            for e in events:
                body = e.payload_json()
                prior = known.get(e.event_id)
                if prior is not None:
                    same = (prior.kind, prior.instance_id, prior.partition, prior.revision,
                            prior.payload_json) == (e.kind, e.instance_id, e.partition,
                                                    e.revision, body)
                    if not same:
                        results.append(EventConflictError(f"event {e.event_id} reused"))
                    elif prior.seq is None:  # the same event twice in this batch
                        new_rows.append((len(results), prior, True))
                        results.append(LedgerError("pending"))
                    else:
                        results.append(CriticalAck(e.event_id, prior.seq, True))
                    continue
                err = self._apply_inventory(s, inv, e.inventory_ops)
                if err is not None:
                    results.append(err)
                    continue
                ev_row = CriticalEvent(event_id=e.event_id, instance_id=e.instance_id,
                                       partition=e.partition, revision=e.revision, kind=e.kind,
                                       payload_json=body)
                s.add(ev_row)
                known[e.event_id] = ev_row
                new_rows.append((len(results), ev_row, False))
                results.append(LedgerError("pending"))
            s.flush()
            s.commit()
        for i, done, dup in new_rows:
            assert done.seq is not None
            results[i] = CriticalAck(done.event_id, done.seq, dup)
        return results

    @staticmethod
    def _apply_inventory(s: Session, inv: dict[tuple[str, int], Inventory],
                         ops: Iterable[InventoryOp]) -> LedgerError | None:
        ops = list(ops)
        staged: dict[tuple[str, int], tuple[str, int]] = {}
        for o in ops:
            key = (o.character_key, o.slot)
            kind, qty = staged.get(key) or (
                (inv[key].item_kind, inv[key].quantity) if key in inv else (o.item_kind, 0))
            if qty > 0 and kind != o.item_kind:
                return InventoryUnderflowError(f"slot {key} holds {kind}, not {o.item_kind}")
            if qty + o.delta < 0:
                return InventoryUnderflowError(f"slot {key}: {qty} + {o.delta} < 0")
            staged[key] = (o.item_kind, qty + o.delta)
        for key, (kind, qty) in staged.items():
            row = inv.get(key)
            if row is None:
                row = inv[key] = Inventory(character_key=key[0], slot=key[1], item_kind=kind,
                                           quantity=qty)
            else:
                row.item_kind, row.quantity, row.updated_at = kind, qty, utcnow()
            s.add(row)
        return None

    def inventory(self, character_key: str) -> dict[int, tuple[str, int]]:
        """slot -> (item kind, quantity) of a character (committed state)."""
        with self._session() as s:
            rows = s.exec(select(Inventory).where(Inventory.character_key == character_key))
            return {r.slot: (r.item_kind, r.quantity) for r in rows if r.quantity > 0}

    def event_count(self) -> int:
        with self._session() as s:
            return int(s.exec(select(func.count()).select_from(CriticalEvent)).one())

    def event_ids(self) -> set[str]:
        with self._session() as s:
            return set(s.exec(select(CriticalEvent.event_id)))

    # ---- snapshots and checkpoints --------------------------------------------------
    def ingest_snapshot(self, instance_id: str, partition: str, revision: int,
                        payload: bytes, server_time_ms: int = 0) -> IngestResult:
        """Keep the newest revision of a partition in memory (durable at checkpoint)."""
        key = (instance_id, partition)
        cur = self._snaps.get(key)
        if cur is not None:
            if revision < cur.revision or (revision == cur.revision and cur.payload is not None
                                           and payload != cur.payload):
                return IngestResult.STALE
            if revision == cur.revision:
                return IngestResult.DUPLICATE
        self._snaps[key] = _Snap(revision, server_time_ms, payload, dirty=True)
        return IngestResult.ACCEPTED

    def latest_snapshot(self, instance_id: str, partition: str) -> SnapshotRecord | None:
        """The newest revision held (in memory, possibly not yet checkpointed)."""
        cur = self._snaps.get((instance_id, partition))
        if cur is None:
            return None
        return self.live_snapshots(instance_id, only={partition}).get(partition)

    def dirty_count(self) -> int:
        return sum(1 for v in self._snaps.values() if v.dirty)

    def checkpoint(self) -> CheckpointInfo:
        """Write every snapshot newer than its stored revision, in one transaction."""
        dirty = [(k, v) for k, v in self._snaps.items() if v.dirty]
        with self._session() as s:
            written = 0
            for (inst, part), snap in dirty:
                payload = snap.payload
                assert payload is not None  # dirty = ingested with its bytes
                coord = parse_chunk_partition(part)
                pid = self._instance_planet.get(inst)
                if coord is not None and pid is not None:
                    written += self._write_chunk(s, pid, coord, snap.revision, payload)
                    continue
                row = s.get(MapSnapshot, (inst, part))
                if row is None:
                    row = MapSnapshot(instance_id=inst, partition=part, revision=snap.revision,
                                      server_time_ms=snap.server_time_ms, payload=payload)
                elif row.revision >= snap.revision:
                    continue
                else:
                    row.revision, row.server_time_ms = snap.revision, snap.server_time_ms
                    row.payload, row.updated_at = payload, utcnow()
                s.add(row)
                written += 1
            last_seq = s.exec(select(func.max(CriticalEvent.seq))).one() or 0
            cp = Checkpoint(snapshots_written=written, last_event_seq=int(last_seq))
            s.add(cp)
            s.commit()
            assert cp.id is not None
        for (inst, part), snap in dirty:  # chunk bytes now live in chunk_delta only
            if inst in self._instance_planet and parse_chunk_partition(part) is not None:
                snap.payload = None
        for _, snap in dirty:
            snap.dirty = False
        return CheckpointInfo(cp.id, written, int(last_seq))

    @staticmethod
    def _write_chunk(s: Session, planet_id: int, coord: tuple[int, int, int],
                     version: int, payload: bytes) -> int:
        """Upsert one chunk delta (``chunk_delta``, the table ``serve --single`` uses too);
        1 if written, 0 if the stored version is as new."""
        row = s.get(ChunkDelta, (planet_id, *coord))
        if row is None:
            row = ChunkDelta(planet_id=planet_id, cx=coord[0], cy=coord[1], cz=coord[2],
                             version=version, payload=payload)
        elif row.version >= version:
            return 0
        else:
            row.version, row.payload, row.updated_at = version, payload, utcnow()
        s.add(row)
        return 1

    def rehydrate(self, instance_id: str | None = None) -> Rehydrated:
        """Checkpointed snapshots + later critical events (of one instance, or all)."""
        with self._session() as s:
            q = select(MapSnapshot)
            eq = select(CriticalEvent).order_by(col(CriticalEvent.seq))
            if instance_id is not None:
                q = q.where(MapSnapshot.instance_id == instance_id)
                eq = eq.where(CriticalEvent.instance_id == instance_id)
            snaps = {(r.instance_id, r.partition): SnapshotRecord(r.revision, r.server_time_ms,
                                                                  r.payload)
                     for r in s.exec(q)}
            for inst, pid in self._instance_planet.items():
                if instance_id is not None and inst != instance_id:
                    continue
                for c in s.exec(select(ChunkDelta).where(ChunkDelta.planet_id == pid)):
                    snaps[(inst, chunk_partition((c.cx, c.cy, c.cz)))] = SnapshotRecord(
                        c.version, 0, bytes(c.payload))
            events = self._events_after(s, eq, snaps)
            info = self._last_checkpoint(s)
        return Rehydrated(info, snaps, events)

    def rehydrate_live(self, instance_id: str) -> Rehydrated:
        """What a (re)started map instance starts from while this orchestrator runs: the
        newest snapshot of each partition held (:meth:`live_snapshots`: checkpointed, or
        ingested since) and every critical event of the instance newer than its
        partition's snapshot, in commit order."""
        snaps = {(instance_id, part): rec
                 for part, rec in self.live_snapshots(instance_id).items()}
        with self._session() as s:
            eq = (select(CriticalEvent).where(CriticalEvent.instance_id == instance_id)
                  .order_by(col(CriticalEvent.seq)))
            return Rehydrated(self._last_checkpoint(s), snaps,
                              self._events_after(s, eq, snaps))

    @staticmethod
    def _events_after(s: Session, query: Any,
                      snaps: dict[tuple[str, str], SnapshotRecord]) -> list[StoredEvent]:
        """The events of ``query`` newer (by revision) than their partition's snapshot."""
        events = []
        for r in s.exec(query):
            base = snaps.get((r.instance_id, r.partition))
            if base is not None and r.revision <= base.revision:
                continue
            body = json.loads(r.payload_json)
            events.append(StoredEvent(r.seq or 0, r.event_id, r.instance_id, r.partition,
                                      r.revision, r.kind, body.get("payload", {})))
        return events

    @staticmethod
    def _last_checkpoint(s: Session) -> CheckpointInfo | None:
        cp = s.exec(select(Checkpoint).order_by(col(Checkpoint.id).desc())).first()
        return None if cp is None else CheckpointInfo(cp.id or 0, cp.snapshots_written,
                                                      cp.last_event_seq)

    def live_snapshots(self, instance_id: str, *, only: set[str] | None = None
                       ) -> dict[str, SnapshotRecord]:
        """partition -> newest snapshot of ``instance_id`` held now (checkpointed or not):
        what a map process restarted under a running orchestrator starts from. Chunk
        deltas held only in ``chunk_delta`` are read from it (one query)."""
        out: dict[str, SnapshotRecord] = {}
        missing: dict[tuple[int, int, int], str] = {}
        for (inst, part), v in self._snaps.items():
            if inst != instance_id or (only is not None and part not in only):
                continue
            if v.payload is not None:
                out[part] = SnapshotRecord(v.revision, v.server_time_ms, v.payload)
            else:
                coord = parse_chunk_partition(part)
                assert coord is not None
                missing[coord] = part
        pid = self._instance_planet.get(instance_id)
        if missing and pid is not None:
            with self._session() as s:
                q = select(ChunkDelta).where(ChunkDelta.planet_id == pid)
                if len(missing) == 1:
                    (cx, cy, cz), = missing
                    q = q.where(ChunkDelta.cx == cx, ChunkDelta.cy == cy, ChunkDelta.cz == cz)
                for c in s.exec(q):
                    part_name = missing.get((c.cx, c.cy, c.cz))
                    if part_name is not None:
                        out[part_name] = SnapshotRecord(c.version, 0, bytes(c.payload))
        return out

    def character_state(self, character_key: str) -> dict[str, Any] | None:
        """A character's newest state: its snapshot (partition ``character:<key>`` of
        :data:`CHARACTERS_INSTANCE`) with every later critical event applied (each event
        payload's keys replace the snapshot's). ``None`` if nothing was ever stored.

        The returned dict carries ``revision``, the newest revision included.
        """
        part = CHARACTER_PARTITION + character_key
        snap = self._snaps.get((CHARACTERS_INSTANCE, part))
        state: dict[str, Any] | None = None
        revision = -1
        if snap is not None and snap.payload is not None:
            state = json.loads(snap.payload)
            revision = snap.revision
        with self._session() as s:
            rows = s.exec(select(CriticalEvent)
                          .where(CriticalEvent.partition == part,
                                 col(CriticalEvent.revision) > revision)
                          .order_by(col(CriticalEvent.seq)))
            for r in rows:
                body = json.loads(r.payload_json).get("payload", {})
                state = {**(state or {}), **body}
                revision = max(revision, r.revision)
        if state is not None:
            state["revision"] = revision
        return state

    def host_value(self, name: str, default: Callable[[], str]) -> str:
        """The host setting ``name``; on first use ``default()`` is stored and returned
        (e.g. the salt of auth-key hashes, which must never change for a database)."""
        with self._session() as s:
            row = s.get(HostSetting, name)
            if row is None:
                row = HostSetting(name=name, value=default())
                s.add(row)
                s.commit()
            return row.value

    # ---- characters (the existing ``character`` table) -------------------------------
    def resolve_character(self, auth_key_hash: str, *, world_seed: int,
                          planet_index: int) -> int:
        """The id of the persistent character of ``auth_key_hash``, created (at the origin
        of the default planet; the map picks the spawn point) if missing."""
        with self._session() as s:
            ch = s.exec(select(Character).where(Character.auth_key_hash == auth_key_hash)).first()
            if ch is not None and ch.id is not None:
                return ch.id
            planet_id = self._planet_id(s, world_seed, planet_index, create=True)
            assert planet_id is not None
            ch = Character(planet_id=planet_id, auth_key_hash=auth_key_hash,
                           pos_x=0.0, pos_y=0.0, pos_z=0.0)
            s.add(ch)
            s.commit()
            assert ch.id is not None
            return ch.id

    # ---- map instances and transfers ------------------------------------------------
    def register_map_instance(self, *, instance_id: str, map_id: str, world_seed: int,
                              planet_index: int, config_json: str, config_hash: str) -> None:
        with self._session() as s:
            if s.get(MapInstance, instance_id) is None:
                s.add(MapInstance(instance_id=instance_id, map_id=map_id, world_seed=world_seed,
                                  planet_index=planet_index, config_json=config_json,
                                  config_hash=config_hash))
            pid = self._planet_id(s, world_seed, planet_index, create=True)
            assert pid is not None
            s.commit()
        if instance_id not in self._instance_planet:
            self._instance_planet[instance_id] = pid
            with self._session() as s:  # chunk deltas written by `serve --single` before
                self._track_chunks(s, instance_id, pid)

    def record_transfer(self, *, transfer_id: str, character_key: str, from_map: str,
                        to_map: str, state: str, reason: str | None = None) -> None:
        """A transfer commit point, durable before return."""
        with self._session() as s:
            row = s.get(TransferRow, transfer_id)
            if row is None:
                row = TransferRow(transfer_id=transfer_id, character_key=character_key,
                                  from_map=from_map, to_map=to_map, state=state, reason=reason)
            else:
                row.state, row.reason, row.updated_at = state, reason, utcnow()
            s.add(row)
            s.commit()

    def transfer_state(self, transfer_id: str) -> str | None:
        with self._session() as s:
            row = s.get(TransferRow, transfer_id)
            return None if row is None else row.state


class AsyncLedger:
    """Runs a :class:`Ledger` on one worker thread; concurrent critical events are
    grouped into one commit (group commit), each awaiting its own ack."""

    def __init__(self, ledger: Ledger, *, max_batch: int = 256) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        self._pending: list[tuple[CriticalEventIn, asyncio.Future[CriticalAck]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the ledger thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def append_critical(self, ev: CriticalEventIn) -> CriticalAck:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[CriticalAck] = loop.create_future()
        self._pending.append((ev, fut))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await self.call(self.ledger.append_critical_many,
                                          [e for e, _ in batch])
            except Exception as exc:  # the database failed: nobody gets an ack
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if isinstance(res, CriticalAck):
                    fut.set_result(res)
                else:
                    fut.set_exception(res)

    async def close(self) -> None:
        if self._drainer is not None:
            await self._drainer
        await self.call(self.ledger.close)
        self._executor.shutdown(wait=True)
