"""initial schema: planet, chunk_delta, character, canister

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "planet",
        sa.Column("world_seed", sa.BigInteger(), nullable=False),
        sa.Column("planet_index", sa.Integer(), nullable=False),
        sa.Column("config_json", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_salt", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("world_seed", "planet_index", name="uq_planet_seed"),
    )
    op.create_table(
        "character",
        sa.Column("pos_x", sa.Float(), nullable=False),
        sa.Column("pos_y", sa.Float(), nullable=False),
        sa.Column("pos_z", sa.Float(), nullable=False),
        sa.Column("rot_x", sa.Float(), nullable=False),
        sa.Column("rot_y", sa.Float(), nullable=False),
        sa.Column("rot_z", sa.Float(), nullable=False),
        sa.Column("rot_w", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("planet_id", sa.Integer(), nullable=False),
        sa.Column("auth_key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["planet_id"], ["planet.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("auth_key_hash"),
    )
    with op.batch_alter_table("character", schema=None) as batch_op:
        batch_op.create_index("ix_character_planet_id", ["planet_id"], unique=False)

    op.create_table(
        "chunk_delta",
        sa.Column("planet_id", sa.Integer(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("cz", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["planet_id"], ["planet.id"]),
        sa.PrimaryKeyConstraint("planet_id", "cx", "cy", "cz"),
    )
    op.create_table(
        "canister",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("planet_id", sa.Integer(), nullable=False),
        sa.Column("character_id", sa.Integer(), nullable=True),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("soil", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["character_id"], ["character.id"]),
        sa.ForeignKeyConstraint(["planet_id"], ["planet.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canister", schema=None) as batch_op:
        batch_op.create_index("ix_canister_owner", ["character_id", "slot"], unique=False)
        batch_op.create_index("ix_canister_planet_id", ["planet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canister", schema=None) as batch_op:
        batch_op.drop_index("ix_canister_planet_id")
        batch_op.drop_index("ix_canister_owner")
    op.drop_table("canister")
    op.drop_table("chunk_delta")
    with op.batch_alter_table("character", schema=None) as batch_op:
        batch_op.drop_index("ix_character_planet_id")
    op.drop_table("character")
    op.drop_table("planet")
