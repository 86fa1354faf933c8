"""Authoritative simulation of one planet: terrain edits, soil, players.

Public API (specification: ``docs/terrain.md``, persistence: ``docs/persistence.md``)::

    World(config, store=None)         apply_edit / undo_last_edit / join / leave / ...
    WorldConfig, PlayerState, EditResult, CanisterResult, EditMode, RejectReason
    apply_delta_payload(density, material, payload) -> (density, material)

Modules: ``types`` (value types), ``soil`` (fill model, canisters), ``csg`` (edit
formulas), ``delta`` (payload codec), ``terrain`` (chunk cache, versions, undo logs),
``edits`` (one edit with its soil accounting), ``ratelimit`` (token bucket),
``records`` (persistent state handed to the store),
``world`` (the :class:`World`).
"""

from .delta import DeltaError, apply_delta_payload, encode_delta
from .soil import fill, soil_units
from .terrain import ChunkChange
from .types import (
    M3_PER_UNIT,
    UNITS_PER_VOXEL,
    CanisterResult,
    EditMode,
    EditResult,
    PlayerState,
    RejectReason,
    WorldConfig,
)
from .world import CharacterInUseError, World, hash_auth_key

__all__ = [
    "M3_PER_UNIT",
    "UNITS_PER_VOXEL",
    "CanisterResult",
    "CharacterInUseError",
    "ChunkChange",
    "DeltaError",
    "EditMode",
    "EditResult",
    "PlayerState",
    "RejectReason",
    "World",
    "WorldConfig",
    "apply_delta_payload",
    "encode_delta",
    "fill",
    "hash_auth_key",
    "soil_units",
]
