"""Plain records of the world's persistent state, handed to and from the store.

The world builds these from its state; :class:`server.persistence.WorldStore` turns them
into rows. They live here, free of database types, so that ``server.world`` never imports
the database stack (persistence depends on the world, never the reverse; checked by
``tests/persistence/test_dependencies.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
ChunkCoord = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PlanetRecord:
    """The planet (world) row: identity, config and the salt of auth-key hashes."""

    id: int
    world_seed: int
    planet_index: int
    config_json: str
    key_salt: bytes


@dataclass(slots=True)
class CanisterRecord:
    """A canister: attached (``character_id`` and ``slot`` set) or loose (both None)."""

    id: int
    soil: int
    character_id: int | None = None
    slot: int | None = None


@dataclass(slots=True)
class CharacterRecord:
    """A persistent character (the auth key hash is not part of it: lookups only)."""

    id: int
    position: Vec3
    rotation: Quat
    canisters: list[CanisterRecord] = field(default_factory=list)


@dataclass(slots=True)
class FlushBatch:
    """Everything one write-behind flush writes, in one transaction.

    Attributes:
        chunks: (coord, version, zstd delta payload) of every dirty chunk.
        characters: online persistent characters (position, rotation, canisters).
        loose_canisters: canisters not attached to anyone.
        deleted_canisters: ids of canisters that no longer persist (held by a
            disposable player or destroyed).
    """

    chunks: list[tuple[ChunkCoord, int, bytes]] = field(default_factory=list)
    characters: list[CharacterRecord] = field(default_factory=list)
    loose_canisters: list[CanisterRecord] = field(default_factory=list)
    deleted_canisters: list[int] = field(default_factory=list)
