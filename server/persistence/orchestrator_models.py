"""Tables of the orchestrator's ledger (seed 004 "Persistence Strategy"; docs/orchestrator.md).

::

    map_instance     instance_id -> map_id, world seed/planet, MapConfig JSON + hash
    inventory        (character_key, slot) -> item kind, quantity (applied by critical events)
    critical_event   seq (order) ; event_id unique (idempotency) ; instance, partition,
                     revision, kind, payload JSON   -- durable before the ack
    transfer         transfer_id -> character, from/to map, state, reason (commit points)
    map_snapshot     (instance_id, partition) -> revision, payload; only newer revisions
    checkpoint       id -> when, snapshots written, last critical seq at that time
    host_setting     name -> value: host-wide values that must survive restarts (the salt
                     of auth-key hashes)

Characters and chunk deltas stay in ``character`` / ``chunk_delta`` of ``models.py``.
Alembic revision ``0002`` creates these tables, ``0003`` ``host_setting``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from .models import utcnow


def _ts() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


class MapInstance(SQLModel, table=True):
    __tablename__ = "map_instance"

    instance_id: str = Field(primary_key=True, max_length=128)
    map_id: str = Field(max_length=128, index=True)
    world_seed: int = Field(sa_type=BigInteger)
    planet_index: int
    config_json: str = Field(sa_type=Text)
    config_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Inventory(SQLModel, table=True):
    __tablename__ = "inventory"

    character_key: str = Field(primary_key=True, max_length=80)
    slot: int = Field(primary_key=True)
    item_kind: str = Field(max_length=64)
    quantity: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CriticalEvent(SQLModel, table=True):
    __tablename__ = "critical_event"
    __table_args__ = (Index("ix_critical_event_partition", "instance_id", "partition",
                            "revision"),)

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    instance_id: str = Field(max_length=128)
    partition: str = Field(max_length=128)
    revision: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=64)
    payload_json: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class TransferRow(SQLModel, table=True):
    __tablename__ = "transfer"

    transfer_id: str = Field(primary_key=True, max_length=64)
    character_key: str = Field(max_length=80, index=True)
    from_map: str = Field(max_length=128)
    to_map: str = Field(max_length=128)
    state: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class MapSnapshot(SQLModel, table=True):
    __tablename__ = "map_snapshot"

    instance_id: str = Field(primary_key=True, max_length=128)
    partition: str = Field(primary_key=True, max_length=128)
    revision: int = Field(sa_type=BigInteger)
    server_time_ms: int = Field(sa_type=BigInteger)
    payload: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Checkpoint(SQLModel, table=True):
    __tablename__ = "checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    snapshots_written: int
    last_event_seq: int = Field(sa_type=BigInteger)


class HostSetting(SQLModel, table=True):
    __tablename__ = "host_setting"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


#: Tables of this module (the Alembic filter includes them).
ORCHESTRATOR_TABLES: tuple[str, ...] = ("map_instance", "inventory", "critical_event",
                                        "transfer", "map_snapshot", "checkpoint",
                                        "host_setting")
