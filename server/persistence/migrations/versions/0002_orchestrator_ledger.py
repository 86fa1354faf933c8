"""orchestrator ledger: map_instance, inventory, critical_event, transfer, map_snapshot,
checkpoint

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "map_instance",
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("map_id", sa.String(length=128), nullable=False),
        sa.Column("world_seed", sa.BigInteger(), nullable=False),
        sa.Column("planet_index", sa.Integer(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    with op.batch_alter_table("map_instance", schema=None) as batch_op:
        batch_op.create_index("ix_map_instance_map_id", ["map_id"], unique=False)
    op.create_table(
        "inventory",
        sa.Column("character_key", sa.String(length=80), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("character_key", "slot"),
    )
    op.create_table(
        "critical_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("critical_event", schema=None) as batch_op:
        batch_op.create_index("ix_critical_event_partition",
                              ["instance_id", "partition", "revision"], unique=False)
    op.create_table(
        "transfer",
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("character_key", sa.String(length=80), nullable=False),
        sa.Column("from_map", sa.String(length=128), nullable=False),
        sa.Column("to_map", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.create_index("ix_transfer_character_key", ["character_key"], unique=False)
    op.create_table(
        "map_snapshot",
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("server_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("instance_id", "partition"),
    )
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.Column("snapshots_written", sa.Integer(), nullable=False),
        sa.Column("last_event_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("checkpoint")
    op.drop_table("map_snapshot")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_character_key")
    op.drop_table("transfer")
    with op.batch_alter_table("critical_event", schema=None) as batch_op:
        batch_op.drop_index("ix_critical_event_partition")
    op.drop_table("critical_event")
    op.drop_table("inventory")
    with op.batch_alter_table("map_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_map_instance_map_id")
    op.drop_table("map_instance")
