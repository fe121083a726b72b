"""Alert state beyond the design's alert_dedup_state: per-channel firing state, silences and
a delivery log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

The design keeps one row per (contract, violation type) in ``alert_dedup_state``. Routing to
several channels, resolved notices and rate limits need more: what each channel was last sent
(severity, elements, whether it is firing), which silences apply, and every delivery outcome.
``alert_dedup_state`` keeps its documented meaning (the last alert of a contract's violation
type, whichever channel).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    timestamptz = sa.DateTime(timezone=True)
    now = sa.text("now()" if postgres else "CURRENT_TIMESTAMP")

    op.create_table(
        "alert_channel_state",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("violation_type", sa.String(50), primary_key=True),
        sa.Column("channel_name", sa.String(255), primary_key=True),
        sa.Column("firing", sa.Boolean(), nullable=False, server_default=sa.text("FALSE")),
        sa.Column("severity", sa.String(20)),
        sa.Column("elements", json, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("last_sent_at", timestamptz),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),  # made by floe: the router claims by it
        sa.Column("contract_name", sa.String(255), nullable=False),
        sa.Column("channel_name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("violation_types", json, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("created_at", timestamptz, nullable=False, server_default=now),
    )
    op.create_index(
        "idx_alert_deliveries_contract",
        "alert_deliveries",
        ["contract_name", "channel_name", "created_at"],
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("contract_pattern", sa.String(255), nullable=False),
        sa.Column("violation_type", sa.String(50)),
        sa.Column("starts_at", timestamptz, nullable=False),
        sa.Column("ends_at", timestamptz, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", timestamptz, nullable=False, server_default=now),
    )


def downgrade() -> None:
    op.drop_table("alert_silences")
    op.drop_index("idx_alert_deliveries_contract", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_channel_state")
