"""Plain records of the world's persistent state, handed to and from the store.

The world builds these from its state; :class:`server.persistence.WorldStore` turns them
into rows. They live here, free of database types, so that ``server.world`` never imports
the database stack (persistence depends on the world, never the reverse; checked by
``tests/persistence/test_dependencies.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
ChunkCoord = tuple[int, int, int]


#: Snapshot partition of one chunk's delta (orchestrator mode): ``chunk:<cx>,<cy>,<cz>``.
CHUNK_PARTITION = "chunk:"


def chunk_partition(coord: ChunkCoord) -> str:
    """The snapshot partition name of a chunk (``chunk:1,-2,3``)."""
    return f"{CHUNK_PARTITION}{coord[0]},{coord[1]},{coord[2]}"


def parse_chunk_partition(part: str) -> ChunkCoord | None:
    """The chunk coordinate of a ``chunk:<cx>,<cy>,<cz>`` partition, else None."""
    if not part.startswith(CHUNK_PARTITION):
        return None
    try:
        x, y, z = (int(v) for v in part[len(CHUNK_PARTITION):].split(","))
    except ValueError:
        return None
    return (x, y, z)


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


class WorldPersistence(Protocol):
    """What :class:`server.world.World` needs from its persistence.

    Implemented by :class:`server.persistence.WorldStore` (one process owning the
    database: ``planet-server serve --single``) and by
    :class:`server.mapproc.remote_store.RemoteStore` (a map process: reads come from the
    orchestrator's rehydrate answer, writes become snapshot pushes; it opens no database).
    ``planet_id`` is the store's id of the planet row (opaque to the world).
    """

    def open_planet(self, world_seed: int, planet_index: int,
                    config_json: str) -> PlanetRecord: ...

    def load_chunk_versions(self, planet_id: int) -> dict[ChunkCoord, int]: ...

    def load_chunk_delta(self, planet_id: int,
                         coord: ChunkCoord) -> tuple[int, bytes] | None: ...

    def load_loose_canisters(self, planet_id: int) -> list[CanisterRecord]: ...

    def max_canister_id(self, planet_id: int | None = None) -> int: ...

    def find_character(self, planet_id: int, key_hash: str) -> CharacterRecord | None: ...

    def create_character(self, planet_id: int, key_hash: str, position: Vec3,
                         rotation: Quat) -> int: ...

    def save_character(self, planet_id: int, rec: CharacterRecord) -> None: ...

    def save_batch(self, planet_id: int, batch: FlushBatch) -> None: ...

    def close(self) -> None: ...
