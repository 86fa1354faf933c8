"""``RemoteStore``: a map process's :class:`~server.world.records.WorldPersistence`,
backed by the orchestrator instead of a database (seed 004, "Persistence Strategy").

Reads: at start the map asks ``POST /orch/rehydrate`` once; chunk deltas (partition
``chunk:<cx>,<cy>,<cz>``, revision = the chunk version) and loose canisters (partition
``loose``) are served from that answer and from this process's own later writes.

Writes: the world's write-behind flush (:meth:`RemoteStore.save_batch`, every
``MAP_SNAPSHOT_PUSH_MS`` and whenever a player leaves) becomes one
``POST /orch/persist-snapshots`` of every dirty partition, queued and sent in order by
:meth:`RemoteStore.run_pusher` (transport errors are retried with back-off, order kept).
Character partitions (``character:<key>`` under the ``characters`` pseudo instance) carry
the lease epoch; the orchestrator refuses them from a map that no longer holds the lease.

Critical events (:meth:`RemoteStore.critical`): the canisters of a character after an
accepted edit moved soil; ``POST /orch/persist-critical-event`` is awaited (durable at the
orchestrator before the ack) and retried with the same ``eventId`` (idempotent).

Character state (JSON, the payload of character partitions)::

    {"characterId": 7, "mapId": "planet-1",
     "poses": {"planet-0": [x, y, z, qx, qy, qz, qw], "planet-1": [...]},   # metres, quat
     "canisters": [[canister_id, soil_units, slot], ...]}

Revisions of a character's snapshots and events come from one clock:
``max(previous + 1, wall-clock microseconds)``, so they increase across the maps a
character visits on one host.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from server.logging import log
from server.orchestrator.control import ControlClient
from server.world.records import (
    CanisterRecord,
    CharacterRecord,
    ChunkCoord,
    FlushBatch,
    PlanetRecord,
    Quat,
    Vec3,
    chunk_partition,
    parse_chunk_partition,
)

logger = logging.getLogger("server.mapproc.store")

CHARACTERS_INSTANCE = "characters"  # same value as server.orchestrator.ledger's
CHARACTER_PARTITION = "character:"
LOOSE_PARTITION = "loose"
#: Canister ids of disposable players start here (+ planet index << 32); persistent
#: characters own ids ``character_id * CANISTERS_PER_CHARACTER + slot``.
DISPOSABLE_CANISTER_BASE = 1 << 40
CANISTERS_PER_CHARACTER = 64


class PersistenceUnavailableError(RuntimeError):
    """The orchestrator did not acknowledge a critical event."""


def record_from_state(state: dict[str, Any] | None, character_id: int,
                      map_id: str) -> tuple[CharacterRecord | None, bool]:
    """(the character's record on ``map_id``, whether it needs the spawn position).

    ``None`` when the state holds no canisters yet (a new character)."""
    if not state or not isinstance(state.get("canisters"), list):
        return None, True
    cans = [CanisterRecord(int(c[0]), int(c[1]), character_id, int(c[2]))
            for c in state["canisters"]]
    pose = (state.get("poses") or {}).get(map_id)
    if not pose or len(pose) != 7:
        return CharacterRecord(character_id, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), cans), True
    pos: Vec3 = (float(pose[0]), float(pose[1]), float(pose[2]))
    rot: Quat = (float(pose[3]), float(pose[4]), float(pose[5]), float(pose[6]))
    return CharacterRecord(character_id, pos, rot, cans), False


@dataclass(slots=True)
class CharacterLink:
    """A persistent character this map holds: key, lease epoch, last state JSON."""

    character_id: int
    key: str
    epoch: int
    state: dict[str, Any] = field(default_factory=dict)


class RemoteStore:
    """See the module docstring.

    Args:
        rpc: the orchestrator's control client.
        map_id / instance_id: this map.
        world_seed / planet_index: the planet (for :meth:`open_planet`).
        rehydrated: the JSON answer of ``/orch/rehydrate``.
        retry_max_s: longest back-off between retries of a failed push.
    """

    def __init__(self, rpc: ControlClient, *, map_id: str, instance_id: str, world_seed: int,
                 planet_index: int, rehydrated: dict[str, Any],
                 retry_max_s: float = 2.0) -> None:
        self.rpc = rpc
        self.map_id = map_id
        self.instance_id = instance_id
        self.world_seed = world_seed
        self.planet_index = planet_index
        self.retry_max_s = retry_max_s
        self._chunks: dict[ChunkCoord, tuple[int, bytes]] = {}
        self._loose: list[CanisterRecord] = []
        self._loose_pushed = b"[]"
        for snap in rehydrated.get("snapshots", []):
            part = snap["partition"]
            payload = base64.b64decode(snap["payloadB64"])
            coord = parse_chunk_partition(part)
            if coord is not None:
                self._chunks[coord] = (int(snap["revision"]), payload)
            elif part == LOOSE_PARTITION:
                self._loose = [CanisterRecord(int(i), int(s)) for i, s in json.loads(payload)]
                self._loose_pushed = payload
        self.links: dict[int, CharacterLink] = {}
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self._revision = 0
        self._boot = secrets.token_hex(6)
        self._event_seq = 0
        self.pushes = 0
        self.push_failures = 0
        self.critical_events = 0

    # ---- revisions ------------------------------------------------------------------
    def next_revision(self) -> int:
        """Strictly increasing; wall-clock microseconds when the clock is ahead."""
        self._revision = max(self._revision + 1, time.time_ns() // 1000)
        return self._revision

    def observe_revision(self, revision: int) -> None:
        """Never issue a revision at or below ``revision`` (a character's newest, from
        another map: its later events must sort after it even if this clock is behind)."""
        self._revision = max(self._revision, revision)

    # ---- characters held here ----------------------------------------------------------
    def register(self, link: CharacterLink) -> None:
        self.links[link.character_id] = link

    def link_by_key(self, key: str) -> CharacterLink | None:
        return next((lk for lk in self.links.values() if lk.key == key), None)

    def release(self, character_id: int) -> CharacterLink | None:
        """Stop persisting a character (its lease moves elsewhere)."""
        return self.links.pop(character_id, None)

    def state_of(self, link: CharacterLink, rec: CharacterRecord) -> dict[str, Any]:
        """Merge the world's record into the character's state JSON (this map's pose)."""
        poses = dict(link.state.get("poses") or {})
        poses[self.map_id] = [*rec.position, *rec.rotation]
        link.state = {**link.state, "characterId": rec.id, "mapId": self.map_id,
                      "poses": poses, "canisters": canister_list(rec)}
        return link.state

    def character_item(self, link: CharacterLink, rec: CharacterRecord | None
                       ) -> dict[str, Any]:
        state = self.state_of(link, rec) if rec is not None else link.state
        return _item(CHARACTERS_INSTANCE, CHARACTER_PARTITION + link.key, self.next_revision(),
                     json.dumps(state, separators=(",", ":")).encode(), epoch=link.epoch)

    # ---- WorldPersistence ---------------------------------------------------------------
    def open_planet(self, world_seed: int, planet_index: int, config_json: str) -> PlanetRecord:
        return PlanetRecord(0, world_seed, planet_index, config_json, b"")

    def load_chunk_versions(self, planet_id: int) -> dict[ChunkCoord, int]:
        return {c: v for c, (v, _) in self._chunks.items()}

    def load_chunk_delta(self, planet_id: int, coord: ChunkCoord) -> tuple[int, bytes] | None:
        return self._chunks.get(coord)

    def load_loose_canisters(self, planet_id: int) -> list[CanisterRecord]:
        return list(self._loose)

    def max_canister_id(self, planet_id: int | None = None) -> int:
        base = DISPOSABLE_CANISTER_BASE + (self.planet_index << 32)
        local = [c.id for c in self._loose if c.id >= base]
        return max(local, default=base)

    def find_character(self, planet_id: int, key_hash: str) -> CharacterRecord | None:
        raise RuntimeError("map processes admit characters through the orchestrator")

    def create_character(self, planet_id: int, key_hash: str, position: Vec3,
                         rotation: Quat) -> int:
        raise RuntimeError("map processes admit characters through the orchestrator")

    def save_character(self, planet_id: int, rec: CharacterRecord) -> None:
        raise RuntimeError("map processes admit characters through the orchestrator")

    def save_batch(self, planet_id: int, batch: FlushBatch) -> None:
        """Queue one flush as a snapshot batch (returns at once; the pusher sends it)."""
        items = []
        for coord, version, payload in batch.chunks:
            self._chunks[coord] = (version, payload)
            items.append(_item(self.instance_id, chunk_partition(coord), version, payload))
        for rec in batch.characters:
            link = self.links.get(rec.id)
            if link is not None:
                items.append(self.character_item(link, rec))
        self._loose = list(batch.loose_canisters)
        loose = json.dumps([[c.id, c.soil] for c in batch.loose_canisters]).encode()
        if loose != self._loose_pushed:
            items.append(_item(self.instance_id, LOOSE_PARTITION, self.next_revision(), loose))
            self._loose_pushed = loose
        if items:
            self.enqueue("/orch/persist-snapshots", {"mapId": self.map_id, "items": items})

    def close(self) -> None:
        """Nothing to close here: :meth:`drain` waits for the queued pushes."""

    # ---- the pusher ---------------------------------------------------------------------
    def enqueue(self, path: str, body: dict[str, Any]) -> None:
        """Send ``body`` to ``path`` after everything queued before it."""
        self._idle.clear()
        self._queue.put_nowait((path, body))

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every queued push was sent; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def run_pusher(self) -> None:
        """Send queued pushes in order until cancelled; a failed send is retried."""
        while True:
            path, body = await self._queue.get()
            delay = 0.05
            while True:
                try:
                    r = await self.rpc.post(path, body)
                    if r.status_code >= 500:
                        raise httpx.HTTPStatusError("server error", request=r.request,
                                                    response=r)
                    if r.status_code >= 400:
                        log(logger, "push_refused", logging.WARNING, path=path,
                            status=r.status_code, body=r.text[:300])
                    else:
                        refused = [x for x in r.json().get("results", []) if
                                   str(x).startswith("refused")]
                        if refused:
                            log(logger, "snapshots_refused", logging.INFO, path=path,
                                refused=refused[:5])
                    self.pushes += 1
                    break
                except (httpx.HTTPError, ValueError) as e:
                    self.push_failures += 1
                    log(logger, "push_failed", logging.WARNING, path=path, error=repr(e),
                        retry_in_s=delay)
                    await asyncio.sleep(delay)
                    delay = min(self.retry_max_s, delay * 2)
            if self._queue.empty():
                self._idle.set()

    # ---- critical events ------------------------------------------------------------------
    async def critical(self, link: CharacterLink, kind: str, payload: dict[str, Any], *,
                       attempts: int = 5) -> int:
        """Make an event on the character's partition durable; returns its ledger seq.

        Raises:
            PersistenceUnavailableError: no ack after ``attempts`` tries (same ``eventId``).
        """
        self._event_seq += 1
        body = {"eventId": f"{self._boot}:{self._event_seq}", "instanceId": self.instance_id,
                "partition": CHARACTER_PARTITION + link.key, "revision": self.next_revision(),
                "kind": kind, "payload": payload}
        delay = 0.05
        last: str = ""
        for _ in range(attempts):
            try:
                r = await self.rpc.post("/orch/persist-critical-event", body)
                if r.status_code == 200:
                    self.critical_events += 1
                    return int(r.json()["seq"])
                last = f"HTTP {r.status_code}: {r.text[:200]}"
                if r.status_code < 500:
                    break
            except httpx.HTTPError as e:
                last = repr(e)
            await asyncio.sleep(delay)
            delay *= 2
        raise PersistenceUnavailableError(f"critical event not acknowledged: {last}")

    async def aclose(self, pusher: asyncio.Task[None] | None) -> None:
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher


def canister_list(rec: CharacterRecord) -> list[list[int]]:
    return [[c.id, c.soil, c.slot if c.slot is not None else -1] for c in rec.canisters]


def _item(instance_id: str, partition: str, revision: int, payload: bytes, *,
          epoch: int | None = None) -> dict[str, Any]:
    return {"instanceId": instance_id, "partition": partition, "revision": revision,
            "serverTimeMs": int(time.time() * 1000),
            "payloadB64": base64.b64encode(payload).decode(), "epoch": epoch}
