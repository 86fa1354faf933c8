"""``WorldStore``: the single writer of one world database.

The world reads through it at start (planet row, chunk versions, loose canisters) and
on demand (a chunk's delta, a character by key hash), and writes through it on join /
leave (one character) and at each write-behind flush (:meth:`WorldStore.save_batch`,
one transaction). Errors are SQLAlchemy exceptions and propagate to the caller.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from server.world.records import (
    CanisterRecord,
    CharacterRecord,
    ChunkCoord,
    FlushBatch,
    PlanetRecord,
    Quat,
    Vec3,
)

from .engine import default_database_url, make_engine
from .migrate import upgrade_to_head
from .models import Canister, Character, ChunkDelta, Planet, utcnow

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """A stored state that contradicts the world (e.g. a chunk version going back)."""


class WorldStore:
    """Persistence of worlds in one database (SQLite file or PostgreSQL).

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///data/world.db``.
        migrate: run ``alembic upgrade head`` first (default True).
    """

    def __init__(self, url: str, *, migrate: bool = True, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, echo=echo)
        if migrate:
            upgrade_to_head(self.engine)

    @classmethod
    def from_data_dir(cls, data_dir: str | Path) -> WorldStore:
        """The default store: ``sqlite:///<data_dir>/world.db``."""
        return cls(default_database_url(data_dir))

    def close(self) -> None:
        """Close every pooled connection (SQLite checkpoints its WAL on the last one)."""
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ---- planet ------------------------------------------------------------------
    def open_planet(self, world_seed: int, planet_index: int, config_json: str) -> PlanetRecord:
        """The planet row for (seed, index), created with a fresh salt if missing;
        its config JSON is updated to ``config_json``."""
        with self._session() as s:
            row = s.exec(
                select(Planet).where(
                    Planet.world_seed == world_seed, Planet.planet_index == planet_index
                )
            ).first()
            if row is None:
                row = Planet(world_seed=world_seed, planet_index=planet_index,
                             config_json=config_json, key_salt=secrets.token_bytes(16))
                s.add(row)
            elif row.config_json != config_json:
                row.config_json = config_json
                s.add(row)
            s.commit()
            s.refresh(row)
            assert row.id is not None
            return PlanetRecord(row.id, row.world_seed, row.planet_index, row.config_json,
                                bytes(row.key_salt))

    # ---- chunks ------------------------------------------------------------------
    def load_chunk_versions(self, planet_id: int) -> dict[ChunkCoord, int]:
        """Version of every stored chunk delta of a planet."""
        with self._session() as s:
            rows = s.exec(
                select(ChunkDelta.cx, ChunkDelta.cy, ChunkDelta.cz, ChunkDelta.version).where(
                    ChunkDelta.planet_id == planet_id
                )
            ).all()
        return {(cx, cy, cz): v for cx, cy, cz, v in rows}

    def load_chunk_delta(self, planet_id: int, coord: ChunkCoord) -> tuple[int, bytes] | None:
        """(version, payload) of one chunk, or None."""
        with self._session() as s:
            row = s.get(ChunkDelta, (planet_id, *coord))
            return None if row is None else (row.version, bytes(row.payload))

    # ---- characters and canisters --------------------------------------------------
    def find_character(self, planet_id: int, key_hash: str) -> CharacterRecord | None:
        """The character with this auth-key hash on this planet, with its canisters."""
        with self._session() as s:
            ch = s.exec(
                select(Character).where(
                    Character.planet_id == planet_id, Character.auth_key_hash == key_hash
                )
            ).first()
            if ch is None or ch.id is None:
                return None
            cans = s.exec(
                select(Canister).where(Canister.character_id == ch.id).order_by(
                    col(Canister.slot)
                )
            ).all()
            return CharacterRecord(
                ch.id, (ch.pos_x, ch.pos_y, ch.pos_z), (ch.rot_x, ch.rot_y, ch.rot_z, ch.rot_w),
                [CanisterRecord(c.id, c.soil, c.character_id, c.slot) for c in cans],
            )

    def create_character(
        self, planet_id: int, key_hash: str, position: Vec3, rotation: Quat
    ) -> int:
        """Insert a character; returns its id. Raises IntegrityError on a duplicate hash."""
        with self._session() as s:
            ch = Character(planet_id=planet_id, auth_key_hash=key_hash, pos_x=position[0],
                           pos_y=position[1], pos_z=position[2], rot_x=rotation[0],
                           rot_y=rotation[1], rot_z=rotation[2], rot_w=rotation[3])
            s.add(ch)
            s.commit()
            assert ch.id is not None
            return ch.id

    def save_character(self, planet_id: int, rec: CharacterRecord) -> None:
        """Write a character's pose, last_seen and canisters (one transaction)."""
        with self._session() as s:
            self._write_character(s, planet_id, rec)
            s.commit()

    def load_loose_canisters(self, planet_id: int) -> list[CanisterRecord]:
        with self._session() as s:
            rows = s.exec(
                select(Canister).where(
                    Canister.planet_id == planet_id, col(Canister.character_id).is_(None)
                )
            ).all()
            return [CanisterRecord(c.id, c.soil) for c in rows]

    def max_canister_id(self, planet_id: int | None = None) -> int:
        """Largest canister id in the database (ids are global), 0 if none."""
        del planet_id
        with self._session() as s:
            v = s.exec(select(func.max(Canister.id))).one()
            return int(v or 0)

    def _write_character(self, s: Session, planet_id: int, rec: CharacterRecord) -> None:
        ch = s.get(Character, rec.id)
        if ch is None:
            raise StoreError(f"character {rec.id} does not exist")
        ch.pos_x, ch.pos_y, ch.pos_z = rec.position
        ch.rot_x, ch.rot_y, ch.rot_z, ch.rot_w = rec.rotation
        ch.last_seen = utcnow()
        s.add(ch)
        keep = [c.id for c in rec.canisters]
        s.execute(
            delete(Canister).where(
                col(Canister.character_id) == rec.id, col(Canister.id).not_in(keep)
            )
        )
        self._write_canisters(s, planet_id, rec.canisters)

    def _write_canisters(
        self, s: Session, planet_id: int, cans: Iterable[CanisterRecord]
    ) -> None:
        for c in cans:
            row = s.get(Canister, c.id)
            if row is None:
                row = Canister(id=c.id, planet_id=planet_id)
            row.character_id, row.slot, row.soil = c.character_id, c.slot, c.soil
            s.add(row)

    # ---- write-behind flush ----------------------------------------------------------
    def save_batch(self, planet_id: int, batch: FlushBatch) -> None:
        """Write a flush batch in one transaction (all or nothing).

        Raises:
            StoreError: a chunk's stored version is newer than the batch's (two writers).
        """
        now = utcnow()
        with self._session() as s:
            if batch.deleted_canisters:
                s.execute(delete(Canister).where(col(Canister.id).in_(batch.deleted_canisters)))
            for (cx, cy, cz), version, payload in batch.chunks:
                row = s.get(ChunkDelta, (planet_id, cx, cy, cz))
                if row is None:
                    row = ChunkDelta(planet_id=planet_id, cx=cx, cy=cy, cz=cz,
                                     version=version, payload=payload, updated_at=now)
                elif row.version > version:
                    raise StoreError(f"chunk {(cx, cy, cz)}: stored version {row.version} "
                                     f"> {version}")
                else:
                    row.version, row.payload, row.updated_at = version, payload, now
                s.add(row)
            s.flush()
            self._write_canisters(s, planet_id, batch.loose_canisters)
            s.flush()
            for rec in batch.characters:
                self._write_character(s, planet_id, rec)
            s.commit()
