"""SQLModel tables. Only changes over generation are stored (``docs/persistence.md``).

::

    planet          one row per (world_seed, planet_index): config JSON, auth-key salt
    chunk_delta     (planet_id, cx, cy, cz) -> version, zstd delta payload over generation
    character       persistent characters: auth_key_hash (unique), pose, timestamps
    canister        attached (character_id, slot) or loose (both NULL); soil units

Every schema change needs an Alembic revision in ``migrations/versions``;
``tests/persistence/test_migrations.py`` checks the migrations produce these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


class PlanetBase(SQLModel):
    world_seed: int = Field(sa_type=BigInteger)
    planet_index: int
    config_json: str


class Planet(PlanetBase, table=True):
    """A planet (one world): identity, tunables, and the salt of auth-key HMACs."""

    __tablename__ = "planet"
    __table_args__ = (UniqueConstraint("world_seed", "planet_index", name="uq_planet_seed"),)

    id: int | None = Field(default=None, primary_key=True)
    key_salt: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ChunkDelta(SQLModel, table=True):
    """The changed voxels of one chunk: ``server.world.delta`` payload (zstd)."""

    __tablename__ = "chunk_delta"

    planet_id: int = Field(foreign_key="planet.id", primary_key=True)
    cx: int = Field(primary_key=True)
    cy: int = Field(primary_key=True)
    cz: int = Field(primary_key=True)
    version: int
    payload: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CharacterBase(SQLModel):
    pos_x: float
    pos_y: float
    pos_z: float
    rot_x: float = 0.0
    rot_y: float = 0.0
    rot_z: float = 0.0
    rot_w: float = 1.0


class Character(CharacterBase, table=True):
    """A persistent character; the player's key is stored only as an HMAC."""

    __tablename__ = "character"

    id: int | None = Field(default=None, primary_key=True)
    planet_id: int = Field(foreign_key="planet.id", index=True)
    auth_key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_seen: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CharacterPublic(CharacterBase):
    """What may leave the server about a character (no key hash)."""

    id: int
    planet_id: int


class Canister(SQLModel, table=True):
    """A soil canister (seed 002 ``Canister``); ids are assigned by the world."""

    __tablename__ = "canister"
    __table_args__ = (Index("ix_canister_owner", "character_id", "slot"),)

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    planet_id: int = Field(foreign_key="planet.id", index=True)
    character_id: int | None = Field(default=None, foreign_key="character.id")
    slot: int | None = None
    soil: int = 0


#: Tables owned by this package (Alembic only manages these).
TABLES: tuple[str, ...] = ("planet", "chunk_delta", "character", "canister")
