"""Value types of the authoritative world: edit modes, reject reasons, config, results.

Units: positions and radii in metres (planet-centred frame, the same as ``shared_gen``);
soil in *units* of 1/16 voxel = 0.0078125 m^3 (see ``docs/terrain.md``, "Soil").
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from enum import IntEnum
from typing import Any

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
ChunkCoord = tuple[int, int, int]

#: Soil units per voxel: a full voxel is 16 units (fill model, docs/terrain.md).
UNITS_PER_VOXEL = 16
#: Cubic metres per soil unit: 0.5^3 / 16.
M3_PER_UNIT = 0.125 / UNITS_PER_VOXEL


class EditMode(IntEnum):
    """Terrain tool modes (seed 002 ``TerrainTool.Mode``)."""

    EXCAVATE = 0
    ELEVATE = 1
    FLATTEN = 2


class RejectReason(IntEnum):
    """Why the world refused a request. ``NONE`` means accepted.

    Ordinals are part of the wire contract (sent to clients); append, never renumber.
    """

    NONE = 0
    OUT_OF_REACH = 1
    RADIUS_OUT_OF_RANGE = 2
    RATE_LIMITED = 3
    NOT_ENOUGH_SOIL = 4
    CANISTERS_FULL = 5
    OUTSIDE_WORLD = 6
    INVALID_NUMBER = 7
    NO_EFFECT = 8
    UNKNOWN_PLAYER = 9
    #: Canister slot out of range, empty (detach) or occupied (attach).
    INVALID_SLOT = 10
    #: No loose canister with that id (attach).
    UNKNOWN_CANISTER = 11
    #: Undo: the player has no edit that can still be undone.
    NOTHING_TO_UNDO = 12


@dataclass(slots=True)
class WorldConfig:
    """Tunables of one planet's world; stored as JSON in the planet row.

    Attributes:
        world_seed, planet_index: which planet (``shared_gen.get_planet``).
        tool_reach_m: largest distance from the player's last known position to an
            edit's centre.
        min_radius_m, max_radius_m: accepted tool radius range, inclusive.
        edit_rate_per_s, edit_burst: token bucket per player (refill rate, capacity).
        canister_capacity: soil units per canister (16 000 = 1000 voxels = 125 m^3;
            the seed's ``Canister.max_capacity = 1000`` read as voxels).
        canisters_per_player: slots (each starts holding an empty canister).
        flush_debounce_s: write-behind: dirty state is flushed once the oldest unflushed
            change is this old.
        undo_depth: edits kept in each chunk's undo log and each player's undo stack.
        flatten_step_q: largest density change (units, 16 = one voxel) of one flatten.
        max_cached_chunks: in-memory chunk cache size (clean chunks are evicted LRU).
        max_cached_payloads: encoded chunk deltas kept for streaming (LRU; evicted ones
            are re-read from the store or re-encoded).
    """

    world_seed: int
    planet_index: int = 0
    tool_reach_m: float = 8.0
    min_radius_m: float = 0.5
    max_radius_m: float = 4.0
    edit_rate_per_s: float = 8.0
    edit_burst: int = 4
    canister_capacity: int = 16_000
    canisters_per_player: int = 2
    flush_debounce_s: float = 5.0
    undo_depth: int = 16
    flatten_step_q: int = 16
    max_cached_chunks: int = 2048
    max_cached_payloads: int = 8192

    def __post_init__(self) -> None:
        checks = [
            (self.world_seed >= 0, "world_seed must be >= 0"),
            (self.planet_index >= 0, "planet_index must be >= 0"),
            (self.tool_reach_m > 0, "tool_reach_m must be > 0"),
            (0 < self.min_radius_m <= self.max_radius_m, "need 0 < min_radius_m <= max"),
            (self.max_radius_m <= 8.0, "max_radius_m must be <= 8 m"),
            (self.edit_rate_per_s > 0, "edit_rate_per_s must be > 0"),
            (self.edit_burst >= 1, "edit_burst must be >= 1"),
            (self.canister_capacity >= 1, "canister_capacity must be >= 1"),
            (0 <= self.canisters_per_player <= 16, "canisters_per_player must be 0..16"),
            (self.flush_debounce_s >= 0, "flush_debounce_s must be >= 0"),
            (self.undo_depth >= 0, "undo_depth must be >= 0"),
            (1 <= self.flatten_step_q <= 254, "flatten_step_q must be 1..254"),
            (self.max_cached_chunks >= 16, "max_cached_chunks must be >= 16"),
            (self.max_cached_payloads >= 16, "max_cached_payloads must be >= 16"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{f.name} must be finite")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) of every field."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorldConfig:
        """Inverse of :meth:`to_json`; unknown keys are ignored."""
        raw: dict[str, Any] = json.loads(text)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(slots=True)
class PlayerState:
    """A connected player as the world sees it.

    Attributes:
        player_id: session id, unique within this World's lifetime (from 1).
        character_id: persistent character id, ``None`` for a disposable player.
        position: metres, planet frame. rotation: quaternion (x, y, z, w).
        canisters: soil units per slot (0 for an empty slot).
        canister_ids: id of the canister in each slot, ``None`` = empty slot.
    """

    player_id: int
    character_id: int | None
    position: Vec3
    rotation: Quat
    canisters: list[int]
    canister_ids: list[int | None] = field(default_factory=list)

    @property
    def soil_total(self) -> int:
        """Soil units over all attached canisters."""
        return sum(self.canisters)


@dataclass(slots=True)
class EditResult:
    """Outcome of :meth:`World.apply_edit` / :meth:`World.undo_last_edit`.

    Attributes:
        accepted: the edit changed the world.
        reason: ``RejectReason.NONE`` when accepted.
        seq: the client's sequence number, echoed.
        chunk_versions: new version of every chunk the edit changed.
        soil_delta: soil units added to (+) or consumed from (-) the canisters.
        soil_total: the player's soil after the edit.
        edit_id: server order of accepted edits (1, 2, ...); 0 when rejected.
    """

    accepted: bool
    reason: RejectReason
    seq: int
    chunk_versions: dict[ChunkCoord, int]
    soil_delta: int
    soil_total: int
    edit_id: int = 0


@dataclass(slots=True)
class CanisterResult:
    """Outcome of :meth:`World.detach_canister` / :meth:`World.attach_canister`.

    Attributes:
        ok: the request was applied. reason: ``NONE`` when ok.
        canister_id: the canister moved (``None`` when refused).
        soil: soil units in that canister.
    """

    ok: bool
    reason: RejectReason
    canister_id: int | None = None
    soil: int = 0
