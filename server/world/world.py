"""The authoritative world of one planet: players, terrain edits, soil, write-behind.

Single-threaded: the owner (the server's tick loop) calls every method from one thread.
Edits are applied in call order (server order); each accepted edit gets the next
``edit_id`` and bumps the version of every chunk it changed.

Validation order of :meth:`World.apply_edit` (the first failing check is the reason):
unknown player, non-finite numbers / unknown mode, radius range, grid bounds, reach,
rate limit (a token is spent by every edit that gets this far), then the edit itself
(``NOT_ENOUGH_SOIL``, ``CANISTERS_FULL``, ``NO_EFFECT``).

Persistence is write-behind (``docs/persistence.md``): edits mark chunks dirty; once the
oldest unflushed change is ``flush_debounce_s`` old, :meth:`maybe_flush` (called by
:meth:`advance_tick`) writes every dirty chunk, online character and loose canister in
one transaction. :meth:`flush` forces it; :meth:`close` flushes and closes the store.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shared_gen import get_planet, hash_ints
from shared_gen.constants import CHUNK_SIZE, VOXEL_SIZE

from . import csg
from .edits import plan_edit
from .ratelimit import TokenBucket
from .records import CanisterRecord, CharacterRecord, FlushBatch
from .soil import add_soil, free_space, remove_soil
from .terrain import ChunkChange, Terrain, chunk_range
from .types import (
    CanisterResult,
    ChunkCoord,
    EditMode,
    EditResult,
    PlayerState,
    Quat,
    RejectReason,
    Vec3,
    WorldConfig,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from .records import WorldPersistence

log = logging.getLogger(__name__)

#: Salt of the spawn direction hash (``hash_ints(planet_seed, SPAWN_SALT)``).
SPAWN_SALT = 0x5BA7
#: Largest accepted auth key length (characters).
MAX_AUTH_KEY_LEN = 1024
IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)


class CharacterInUseError(RuntimeError):
    """``join`` with the key of a character that is already online."""


def hash_auth_key(salt: bytes, auth_key: str) -> str:
    """HMAC-SHA256(salt, key) as lower-case hex: the only form in which keys are stored."""
    return hmac.new(salt, auth_key.encode("utf-8"), hashlib.sha256).hexdigest()


def _finite(values: object, n: int) -> bool:
    """``values`` is a sequence of ``n`` finite real numbers (never raises)."""
    try:
        vals: tuple[Any, ...] = tuple(values)  # type: ignore[arg-type]
        return len(vals) == n and all(math.isfinite(float(v)) for v in vals)
    except (TypeError, ValueError, OverflowError):
        return False


@dataclass(slots=True)
class _EditRecord:
    edit_id: int
    coords: list[ChunkCoord]
    soil_delta: int


class World:
    """The authoritative world of one planet (see the module docstring).

    Args:
        config: tunables; ``world_seed`` / ``planet_index`` pick the planet.
        store: persistence; ``None`` = in memory only (nothing survives the process).
            The world takes ownership: :meth:`close` closes it.
        clock: monotonic seconds, for the write-behind debounce.

    Raises:
        ValueError: unknown planet or bad seed (from ``shared_gen.get_planet``).
    """

    def __init__(
        self,
        config: WorldConfig,
        store: WorldPersistence | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._store = store
        self._clock = clock
        self.planet = get_planet(config.world_seed, config.planet_index)
        versions: dict[ChunkCoord, int] = {}
        self._loose: dict[int, int] = {}  # loose canister id -> soil
        next_canister = 1
        if store is not None:
            rec = store.open_planet(config.world_seed, config.planet_index, config.to_json())
            self._planet_id = rec.id
            self._salt = rec.key_salt
            versions = store.load_chunk_versions(rec.id)
            self._loose = {c.id: c.soil for c in store.load_loose_canisters(rec.id)}
            next_canister = store.max_canister_id(rec.id) + 1
            pid = rec.id
            loader = lambda coord: store.load_chunk_delta(pid, coord)  # noqa: E731
        else:
            self._planet_id = 0
            self._salt = secrets.token_bytes(16)
            loader = None
        self.terrain = Terrain(
            config.world_seed, config.planet_index, versions=versions, loader=loader,
            undo_depth=config.undo_depth, max_cached_chunks=config.max_cached_chunks,
            max_cached_payloads=config.max_cached_payloads,
        )
        self._next_canister = next_canister
        self._next_player = 1
        self._next_edit = 1
        self._next_mem_character = 1
        self._tick = 0
        self._players: dict[int, PlayerState] = {}
        self._buckets: dict[int, TokenBucket] = {}
        self._undo: dict[int, deque[_EditRecord]] = {}
        self._online_characters: dict[int, int] = {}  # character id -> player id
        self._mem_characters: dict[str, CharacterRecord] = {}  # store-less persistence
        self._deleted_canisters: set[int] = set()
        self._leaving: list[CharacterRecord] = []  # saved by the next flush
        self._dirty_since: float | None = None
        self._closed = False
        #: Duration in seconds of the last flush that wrote to the store.
        self.last_flush_s = 0.0

    # ---- time --------------------------------------------------------------------
    @property
    def tick(self) -> int:
        """Simulation tick counter (advanced by the server loop)."""
        return self._tick

    def advance_tick(self) -> None:
        """Advance the tick and run a debounced flush if one is due.

        Never raises for a failed flush: the error is logged, everything stays pending
        and the flush is retried ``flush_debounce_s`` later (the tick loop keeps going).
        """
        self._tick += 1
        try:
            self.maybe_flush()
        except Exception:
            log.exception("write-behind flush failed; retrying in %.1f s",
                          self.config.flush_debounce_s)
            self._dirty_since = self._clock()

    # ---- players -----------------------------------------------------------------
    @property
    def players(self) -> dict[int, PlayerState]:
        """Connected players by id (a copy of the mapping; the states are live)."""
        return dict(self._players)

    def player(self, player_id: int) -> PlayerState | None:
        return self._players.get(player_id)

    def spawn_position(self) -> Vec3:
        """A point 0.5 m above the terrain on a seed-chosen equator direction.

        The ray from ``R + A + 2 m`` down toward the centre is sampled every 0.25 m
        (nearest voxel); the spawn is 0.5 m above the first solid sample, so the sample
        0.5 m below it is solid and every sample above it is air. Deterministic for the
        seed and the current terrain.
        """
        u = hash_ints(self.planet.seed, SPAWN_SALT)
        theta = u / 4294967296.0 * 2.0 * math.pi
        dx, dy, dz = math.cos(theta), 0.0, math.sin(theta)
        r_top = self.planet.radius_m + self.planet.terrain_amplitude_m + 2.0
        r_min = self.planet.radius_m - self.planet.terrain_amplitude_m - 24.0
        r = r_top
        while r > r_min:
            if self._density_at((dx * r, dy * r, dz * r)) > 0:
                s = r + 0.5
                return (dx * s, dy * s, dz * s)
            r -= 0.25
        return (dx * r_top, dy * r_top, dz * r_top)

    def _density_at(self, p: Vec3) -> int:
        g = [math.floor(v / VOXEL_SIZE + 0.5) for v in p]
        coord = (g[0] // CHUNK_SIZE, g[1] // CHUNK_SIZE, g[2] // CHUNK_SIZE)
        st = self.terrain.chunk(coord)
        return int(st.density[g[0] % CHUNK_SIZE, g[1] % CHUNK_SIZE, g[2] % CHUNK_SIZE])

    def _new_canisters(self, character_id: int | None) -> list[CanisterRecord]:
        out = []
        for slot in range(self.config.canisters_per_player):
            out.append(CanisterRecord(self._next_canister, 0, character_id, slot))
            self._next_canister += 1
        return out

    def join(self, auth_key: str | None, now: float) -> PlayerState:
        """Add a player. A key selects (or creates) a persistent character; None is a
        disposable player with empty canisters at :meth:`spawn_position`.

        The key is kept only as ``HMAC-SHA256(world salt, key)``; it is never logged.

        Raises:
            ValueError: empty key or longer than 1024 characters.
            CharacterInUseError: that character is already online.
        """
        del now  # joins are not rate limited here (the session layer does that)
        if auth_key is None:
            rec = CharacterRecord(0, self.spawn_position(), IDENTITY, self._new_canisters(None))
            character_id: int | None = None
        else:
            if not isinstance(auth_key, str) or not 0 < len(auth_key) <= MAX_AUTH_KEY_LEN:
                raise ValueError("auth key must be a string of 1..1024 characters")
            key_hash = hash_auth_key(self._salt, auth_key)
            found = self._find_character(key_hash)
            if found is not None and found.id in self._online_characters:
                raise CharacterInUseError("character already online")
            if found is None:
                found = self._create_character(key_hash)
            # left while the store was failing: its newest state is still pending here
            found = next((r for r in self._leaving if r.id == found.id), found)
            rec = found
            character_id = rec.id
        return self._add_player(rec, character_id)

    def join_record(self, rec: CharacterRecord | None, character_id: int | None,
                    *, canister_id_base: int | None = None) -> PlayerState:
        """Add a player whose identity and state the orchestrator resolved (map process).

        ``rec`` is the character's saved state on this map (None: a new character, or a
        disposable one when ``character_id`` is None, at :meth:`spawn_position` with
        empty canisters). New canisters of a persistent character get the ids
        ``canister_id_base + slot`` (so ids stay unique on every map it visits); a
        position outside this planet's grid is replaced by the spawn position.

        Raises:
            CharacterInUseError: that character is already online here.
        """
        if character_id is not None and character_id in self._online_characters:
            raise CharacterInUseError("character already online")
        if rec is None:
            if character_id is not None and canister_id_base is not None:
                cans = [CanisterRecord(canister_id_base + slot, 0, character_id, slot)
                        for slot in range(self.config.canisters_per_player)]
            else:
                cans = self._new_canisters(character_id)
            rec = CharacterRecord(character_id or 0, self.spawn_position(), IDENTITY, cans)
        elif not self._in_world(rec.position):
            rec = CharacterRecord(rec.id, self.spawn_position(), IDENTITY, rec.canisters)
        return self._add_player(rec, character_id)

    def player_record(self, player_id: int) -> CharacterRecord | None:
        """The state of any online player (a disposable one has id 0): what travels with
        it on a map transfer. None for an unknown id."""
        p = self._players.get(player_id)
        return None if p is None else self._record_of(p)

    def character_record(self, player_id: int) -> CharacterRecord | None:
        """The saveable state of an online persistent character (None otherwise)."""
        p = self._players.get(player_id)
        if p is None or p.character_id is None:
            return None
        return self._character_record(p)

    def _add_player(self, rec: CharacterRecord, character_id: int | None) -> PlayerState:
        n = self.config.canisters_per_player
        pid = self._next_player
        self._next_player += 1
        canisters = [0] * n
        ids: list[int | None] = [None] * n
        for c in rec.canisters:
            if c.slot is not None and 0 <= c.slot < n and ids[c.slot] is None:
                ids[c.slot] = c.id
                canisters[c.slot] = c.soil
            else:  # more canisters than slots (config changed): drop them as loose
                self._loose[c.id] = c.soil
                self._mark_dirty()
        state = PlayerState(pid, character_id, rec.position, rec.rotation, canisters, ids)
        self._players[pid] = state
        self._buckets[pid] = TokenBucket(self.config.edit_rate_per_s, self.config.edit_burst)
        self._undo[pid] = deque(maxlen=self.config.undo_depth)
        if character_id is not None:
            self._online_characters[character_id] = pid
        log.info("player %d joined (character %s)", pid, character_id)
        return state

    def _find_character(self, key_hash: str) -> CharacterRecord | None:
        if self._store is not None:
            return self._store.find_character(self._planet_id, key_hash)
        return self._mem_characters.get(key_hash)

    def _create_character(self, key_hash: str) -> CharacterRecord:
        pos = self.spawn_position()
        if self._store is not None:
            cid = self._store.create_character(self._planet_id, key_hash, pos, IDENTITY)
        else:
            cid = self._next_mem_character
            self._next_mem_character += 1
        rec = CharacterRecord(cid, pos, IDENTITY, self._new_canisters(cid))
        if self._store is not None:
            self._store.save_character(self._planet_id, rec)
        else:
            self._mem_characters[key_hash] = rec
        return rec

    def _character_record(self, p: PlayerState) -> CharacterRecord:
        assert p.character_id is not None
        return self._record_of(p)

    @staticmethod
    def _record_of(p: PlayerState) -> CharacterRecord:
        """Pose and attached canisters of a player (id 0 for a disposable one)."""
        cans = [
            CanisterRecord(cid, p.canisters[slot], p.character_id, slot)
            for slot, cid in enumerate(p.canister_ids)
            if cid is not None
        ]
        return CharacterRecord(p.character_id or 0, p.position, p.rotation, cans)

    def leave(self, player_id: int) -> None:
        """Remove a player. Unknown ids are ignored.

        A persistent character is saved now, through a full :meth:`flush` (with every
        dirty chunk), so the soil in its canisters and the terrain it came from are
        always written together. A disposable player's canisters are destroyed.
        """
        p = self._players.pop(player_id, None)
        if p is None:
            return
        self._buckets.pop(player_id, None)
        self._undo.pop(player_id, None)
        if p.character_id is None:
            self._deleted_canisters.update(c for c in p.canister_ids if c is not None)
            return
        self._online_characters.pop(p.character_id, None)
        rec = self._character_record(p)
        if self._store is not None:
            self._leaving.append(rec)
            try:
                self.flush()
            except Exception:  # the store is down: kept, retried by the next flush
                log.exception("saving character %d failed; will retry", p.character_id)
                self._mark_dirty()
        else:
            for key, old in self._mem_characters.items():
                if old.id == rec.id:
                    self._mem_characters[key] = rec
                    break
        log.info("player %d left (character %d saved)", player_id, p.character_id)

    def _in_world(self, p: Vec3) -> bool:
        bound = (self.terrain.grid_radius + 1) * CHUNK_SIZE * VOXEL_SIZE
        return all(abs(v) <= bound for v in p)

    def set_transform(self, player_id: int, position: Vec3, rotation: Quat) -> RejectReason:
        """Record a player's pose (metres, quaternion x, y, z, w; normalized here)."""
        p = self._players.get(player_id)
        if p is None:
            return RejectReason.UNKNOWN_PLAYER
        if not (_finite(position, 3) and _finite(rotation, 4)):
            return RejectReason.INVALID_NUMBER
        pos = (float(position[0]), float(position[1]), float(position[2]))
        rot = tuple(float(v) for v in rotation)
        norm = math.sqrt(sum(v * v for v in rot))
        if not 1e-6 < norm < 1e6:
            return RejectReason.INVALID_NUMBER
        if not self._in_world(pos):
            return RejectReason.OUTSIDE_WORLD
        p.position = pos
        p.rotation = (rot[0] / norm, rot[1] / norm, rot[2] / norm, rot[3] / norm)
        return RejectReason.NONE

    # ---- canisters (Property 3) ----------------------------------------------------
    def loose_canisters(self) -> dict[int, int]:
        """Canisters attached to nobody: id -> soil units (a copy)."""
        return dict(self._loose)

    def detach_canister(self, player_id: int, slot: int) -> CanisterResult:
        """Detach the canister in ``slot``; it becomes loose, keeping its soil."""
        p = self._players.get(player_id)
        if p is None:
            return CanisterResult(False, RejectReason.UNKNOWN_PLAYER)
        if not (isinstance(slot, int) and 0 <= slot < len(p.canister_ids)):
            return CanisterResult(False, RejectReason.INVALID_SLOT)
        cid = p.canister_ids[slot]
        if cid is None:
            return CanisterResult(False, RejectReason.INVALID_SLOT)
        soil = p.canisters[slot]
        p.canister_ids[slot] = None
        p.canisters[slot] = 0
        self._loose[cid] = soil
        self._deleted_canisters.discard(cid)
        self._mark_dirty()
        return CanisterResult(True, RejectReason.NONE, cid, soil)

    def attach_canister(self, player_id: int, slot: int, canister_id: int) -> CanisterResult:
        """Attach loose canister ``canister_id`` to the empty ``slot``."""
        p = self._players.get(player_id)
        if p is None:
            return CanisterResult(False, RejectReason.UNKNOWN_PLAYER)
        if not (isinstance(slot, int) and 0 <= slot < len(p.canister_ids)):
            return CanisterResult(False, RejectReason.INVALID_SLOT)
        if p.canister_ids[slot] is not None:
            return CanisterResult(False, RejectReason.INVALID_SLOT)
        if canister_id not in self._loose:
            return CanisterResult(False, RejectReason.UNKNOWN_CANISTER)
        soil = self._loose.pop(canister_id)
        p.canister_ids[slot] = canister_id
        p.canisters[slot] = soil
        if p.character_id is None:
            self._deleted_canisters.add(canister_id)
        self._mark_dirty()
        return CanisterResult(True, RejectReason.NONE, canister_id, soil)

    # ---- terrain edits -------------------------------------------------------------
    def _reject(self, reason: RejectReason, seq: int, p: PlayerState | None) -> EditResult:
        return EditResult(False, reason, seq, {}, 0, p.soil_total if p else 0)

    def apply_edit(
        self,
        player_id: int,
        mode: EditMode,
        center: Vec3,
        radius: float,
        seq: int,
        now: float,
    ) -> EditResult:
        """Apply a terrain tool edit (formulas: ``docs/terrain.md``; checks: module doc).

        Excavate adds the removed soil to the canisters (slot 0 first); when they cannot
        hold all of it the excavation is limited to what fits (``CANISTERS_FULL`` only
        when nothing fits). Elevate consumes exactly the soil it adds
        (``NOT_ENOUGH_SOIL`` otherwise). Flatten is all or nothing: it needs the net
        soil it adds, and room for the net soil it removes.
        """
        cfg = self.config
        p = self._players.get(player_id)
        if p is None:
            return self._reject(RejectReason.UNKNOWN_PLAYER, seq, None)
        try:
            mode = EditMode(mode)
        except (ValueError, TypeError):
            return self._reject(RejectReason.INVALID_NUMBER, seq, p)
        if not (_finite(center, 3) and _finite((radius,), 1)):
            return self._reject(RejectReason.INVALID_NUMBER, seq, p)
        c: Vec3 = (float(center[0]), float(center[1]), float(center[2]))
        radius = float(radius)
        if not cfg.min_radius_m <= radius <= cfg.max_radius_m:
            return self._reject(RejectReason.RADIUS_OUT_OF_RANGE, seq, p)
        reach = radius if mode == EditMode.FLATTEN else radius + csg.BAND_M
        lo, hi = csg.sphere_box(c, reach)
        if not self._in_world(c) or not all(
            self.terrain.in_grid(k) for k in chunk_range(lo, hi)
        ):
            return self._reject(RejectReason.OUTSIDE_WORLD, seq, p)
        if math.dist(c, p.position) > cfg.tool_reach_m:
            return self._reject(RejectReason.OUT_OF_REACH, seq, p)
        if not self._buckets[player_id].take(now):
            return self._reject(RejectReason.RATE_LIMITED, seq, p)

        old_d, old_m = self.terrain.read_region(lo, hi)
        cans, ids, cap = p.canisters, p.canister_ids, cfg.canister_capacity
        plan = plan_edit(mode, old_d, old_m, lo, c, radius, room=free_space(cans, ids, cap),
                         held=_held(cans, ids), flatten_step=cfg.flatten_step_q)
        if plan.density is None or plan.material is None:
            return self._reject(plan.reason, seq, p)
        gained = plan.soil_delta

        edit_id = self._next_edit
        self._next_edit += 1
        versions = self.terrain.write_region(lo, plan.density, plan.material, edit_id,
                                             player_id)
        if gained > 0:
            added = add_soil(cans, ids, cap, gained)
            assert added == gained
        elif gained < 0:
            ok = remove_soil(cans, ids, -gained)
            assert ok
        self._undo[player_id].append(_EditRecord(edit_id, sorted(versions), gained))
        self._mark_dirty()
        return EditResult(True, RejectReason.NONE, seq, versions, gained, p.soil_total, edit_id)

    def undo_last_edit(self, player_id: int, seq: int, now: float) -> EditResult:
        """Undo the player's newest edit if no later edit changed any of its chunks.

        The soil moves back (an undone excavation takes its soil out of the canisters
        again: ``NOT_ENOUGH_SOIL`` if it is gone). Versions still increase. Rate
        limited like edits. An edit that can no longer be undone is dropped from the
        player's stack (``NOTHING_TO_UNDO``).
        """
        p = self._players.get(player_id)
        if p is None:
            return self._reject(RejectReason.UNKNOWN_PLAYER, seq, None)
        stack = self._undo[player_id]
        if not stack:
            return self._reject(RejectReason.NOTHING_TO_UNDO, seq, p)
        if not self._buckets[player_id].take(now):
            return self._reject(RejectReason.RATE_LIMITED, seq, p)
        rec = stack[-1]
        if any(
            (top := self.terrain.undo_top(k)) is None or top.edit_id != rec.edit_id
            for k in rec.coords
        ):
            stack.pop()
            return self._reject(RejectReason.NOTHING_TO_UNDO, seq, p)
        cans, ids, cap = p.canisters, p.canister_ids, self.config.canister_capacity
        back = -rec.soil_delta
        if back > 0 and free_space(cans, ids, cap) < back:
            return self._reject(RejectReason.CANISTERS_FULL, seq, p)
        if back < 0 and not remove_soil(cans, ids, -back):
            return self._reject(RejectReason.NOT_ENOUGH_SOIL, seq, p)
        if back > 0:
            add_soil(cans, ids, cap, back)
        stack.pop()
        versions = self.terrain.revert(rec.coords, rec.edit_id)
        edit_id = self._next_edit
        self._next_edit += 1
        self._mark_dirty()
        return EditResult(True, RejectReason.NONE, seq, versions, back, p.soil_total, edit_id)

    # ---- chunk queries -------------------------------------------------------------
    def chunk_version(self, coord: ChunkCoord) -> int:
        """0 = unmodified since generation; +1 per change; never decreases."""
        return self.terrain.version(_coord(coord))

    def chunk_delta_payload(self, coord: ChunkCoord) -> tuple[int, bytes | None]:
        """(version, zstd delta over generation) or (0, None) if unmodified."""
        return self.terrain.payload(_coord(coord))

    def voxels(
        self, coord: ChunkCoord
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
        """Current authoritative (density int8, material uint8), (32, 32, 32), read-only.

        Raises:
            ValueError: the chunk is outside the planet's grid.
        """
        st = self.terrain.chunk(_coord(coord))
        d, m = st.density.view(), st.material.view()
        d.flags.writeable = False
        m.flags.writeable = False
        return d, m

    def drain_changed(self) -> dict[ChunkCoord, int]:
        """Chunks changed since the last drain -> newest version (coalesced per tick)."""
        return self.terrain.drain_changed()

    def drain_changes(self) -> dict[ChunkCoord, ChunkChange]:
        """Like :meth:`drain_changed`, with each chunk's version before the first change
        since the last drain and the voxels written since (for incremental deltas)."""
        return self.terrain.drain_changes()

    # ---- persistence ---------------------------------------------------------------
    def _mark_dirty(self) -> None:
        if self._dirty_since is None:
            self._dirty_since = self._clock()

    @property
    def dirty(self) -> bool:
        """True when something changed since the last flush."""
        return self._dirty_since is not None

    def maybe_flush(self) -> bool:
        """Flush if the oldest unflushed change is ``flush_debounce_s`` old; returns
        whether it flushed."""
        since = self._dirty_since
        if since is None or self._clock() - since < self.config.flush_debounce_s:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Write every dirty chunk, online character (and characters that left since the
        last flush) and loose canister now, in one transaction. On a store error
        everything stays pending and the error propagates."""
        if self._store is None:
            self.terrain.clear_dirty()
            self._dirty_since = None
            return
        t0 = time.perf_counter()
        batch = FlushBatch(
            chunks=self.terrain.take_dirty(),
            characters=[
                self._character_record(p)
                for p in self._players.values()
                if p.character_id is not None
            ] + self._leaving,
            loose_canisters=[CanisterRecord(i, s) for i, s in sorted(self._loose.items())],
            deleted_canisters=sorted(self._deleted_canisters),
        )
        try:
            self._store.save_batch(self._planet_id, batch)
        except Exception:
            self.terrain.restore_dirty([k for k, _, _ in batch.chunks])
            raise
        self._deleted_canisters.clear()
        self._leaving = []
        self._dirty_since = None
        self.last_flush_s = time.perf_counter() - t0

    def close(self) -> None:
        """Save every online character, flush, and close the store. Idempotent."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        if self._store is not None:
            self._store.close()


def _coord(coord: ChunkCoord) -> ChunkCoord:
    return (int(coord[0]), int(coord[1]), int(coord[2]))


def _held(canisters: list[int], ids: list[int | None]) -> int:
    return sum(s for s, i in zip(canisters, ids, strict=True) if i is not None)
