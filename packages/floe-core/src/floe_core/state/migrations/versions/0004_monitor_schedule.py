"""The long-running monitor's schedule, its replicas, and its daily jobs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

``monitor_schedule`` holds one row per (registered contract, check type it applies to): when
it is next due and which replica holds its lease. Replicas on PostgreSQL claim due rows with
``SELECT ... FOR UPDATE SKIP LOCKED``, so each due check runs once across all of them, and
the rows of a replica that died are claimable again once its leases expire.
``monitor_replicas`` is each running monitor's heartbeat (on SQLite: at most one at a time).
``monitor_jobs`` holds the once-a-day jobs (retention), claimed by one replica per day.
``registered_contracts.updated_at`` tells a running monitor that a contract was registered
again, so it reads only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    timestamptz = sa.DateTime(timezone=True)
    now = sa.text("now()" if postgres else "CURRENT_TIMESTAMP")

    with op.batch_alter_table("registered_contracts") as table:
        table.add_column(sa.Column("updated_at", timestamptz, nullable=True))
    op.create_table(
        "monitor_schedule",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("check_type", sa.String(50), primary_key=True),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("next_due_at", timestamptz, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", timestamptz),
        sa.Column("last_started_at", timestamptz),
        sa.Column("last_finished_at", timestamptz),
        sa.Column("last_status", sa.String(20)),
    )
    op.create_index("idx_monitor_schedule_due", "monitor_schedule", ["next_due_at"])
    op.create_table(
        "monitor_replicas",
        sa.Column("replica_id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", timestamptz, nullable=False, server_default=now),
        sa.Column("heartbeat_at", timestamptz, nullable=False, server_default=now),
    )
    op.create_table(
        "monitor_jobs",
        sa.Column("job", sa.String(50), primary_key=True),
        sa.Column("last_run_on", sa.Date()),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", timestamptz),
    )


def downgrade() -> None:
    op.drop_table("monitor_jobs")
    op.drop_table("monitor_replicas")
    op.drop_index("idx_monitor_schedule_due", table_name="monitor_schedule")
    op.drop_table("monitor_schedule")
    with op.batch_alter_table("registered_contracts") as table:
        table.drop_column("updated_at")
