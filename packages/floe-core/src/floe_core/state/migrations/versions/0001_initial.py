"""The six monitoring tables of the design's data model.

Revision ID: 0001
Revises:
Create Date: 2026-02-08

On PostgreSQL exactly the documented DDL (UUID, JSONB, TIMESTAMPTZ, ``gen_random_uuid()``,
``now()``). On SQLite the portable equivalents: CHAR(32) UUIDs, JSON text, DATETIME, and
server defaults SQLite can evaluate (``CURRENT_TIMESTAMP``, a random UUID expression).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy (later model changes must not alter this migration) of models.SQLITE_RANDOM_UUID.
_SQLITE_RANDOM_UUID = (
    "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    timestamptz = sa.DateTime(timezone=True)
    now = sa.text("now()" if postgres else "CURRENT_TIMESTAMP")
    random_uuid = sa.text("gen_random_uuid()" if postgres else _SQLITE_RANDOM_UUID)

    op.create_table(
        "contract_check_results",
        sa.Column("id", sa.Uuid(), primary_key=True, server_default=random_uuid),
        sa.Column("contract_name", sa.String(255), nullable=False),
        sa.Column("check_type", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("checked_at", timestamptz, nullable=False, server_default=now),
        sa.Column("details", json, server_default=sa.text("'{}'")),
        sa.Column("violation", json),  # DEFAULT NULL: PostgreSQL records no default for it
        sa.Column("created_at", timestamptz, nullable=False, server_default=now),
    )
    op.create_index(
        "idx_check_results_contract", "contract_check_results", ["contract_name", "checked_at"]
    )
    op.create_index(
        "idx_check_results_type", "contract_check_results", ["check_type", "checked_at"]
    )

    op.create_table(
        "contract_violations",
        sa.Column("id", sa.Uuid(), primary_key=True, server_default=random_uuid),
        sa.Column("contract_name", sa.String(255), nullable=False),
        sa.Column("contract_version", sa.String(50), nullable=False),
        sa.Column("violation_type", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("element", sa.String(255)),
        sa.Column("expected_value", sa.Text()),
        sa.Column("actual_value", sa.Text()),
        sa.Column("affected_consumers", json, server_default=sa.text("'[]'")),
        sa.Column("detected_at", timestamptz, nullable=False, server_default=now),
        sa.Column("check_result_id", sa.Uuid(), sa.ForeignKey("contract_check_results.id")),
    )
    op.create_index(
        "idx_violations_contract", "contract_violations", ["contract_name", "detected_at"]
    )
    op.create_index("idx_violations_severity", "contract_violations", ["severity", "detected_at"])

    op.create_table(
        "contract_sla_status",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("check_type", sa.String(50), primary_key=True),
        sa.Column("current_value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("compliance_pct", sa.Float(), nullable=False),
        sa.Column("last_check_time", timestamptz),
        sa.Column("consecutive_failures", sa.Integer(), server_default=sa.text("0")),
        sa.Column("violation_count_24h", sa.Integer(), server_default=sa.text("0")),
        sa.Column("window_start", timestamptz, nullable=False),
        sa.Column("updated_at", timestamptz, nullable=False, server_default=now),
    )

    op.create_table(
        "contract_daily_aggregates",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("check_type", sa.String(50), primary_key=True),
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("total_checks", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("passed_checks", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("failed_checks", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("error_checks", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("avg_duration_seconds", sa.Float()),
        sa.Column("min_quality_score", sa.Float()),
        sa.Column("max_quality_score", sa.Float()),
        sa.Column("avg_quality_score", sa.Float()),
        sa.Column("uptime_pct", sa.Float()),
        sa.Column("violation_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )

    op.create_table(
        "registered_contracts",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("contract_version", sa.String(50), nullable=False),
        sa.Column("contract_data", json, nullable=False),
        sa.Column("connection_config", json, nullable=False),
        sa.Column("monitoring_overrides", json),
        sa.Column("registered_at", timestamptz, nullable=False, server_default=now),
        sa.Column("last_check_times", json, server_default=sa.text("'{}'")),
        sa.Column("active", sa.Boolean(), server_default=sa.text("TRUE")),
    )

    op.create_table(
        "alert_dedup_state",
        sa.Column("contract_name", sa.String(255), primary_key=True),
        sa.Column("violation_type", sa.String(50), primary_key=True),
        sa.Column("last_alerted_at", timestamptz, nullable=False),
        sa.Column("alert_count_window", sa.Integer(), server_default=sa.text("1")),
        sa.Column("window_start", timestamptz, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_dedup_state")
    op.drop_table("registered_contracts")
    op.drop_table("contract_daily_aggregates")
    op.drop_table("contract_sla_status")
    op.drop_index("idx_violations_severity", table_name="contract_violations")
    op.drop_index("idx_violations_contract", table_name="contract_violations")
    op.drop_table("contract_violations")
    op.drop_index("idx_check_results_type", table_name="contract_check_results")
    op.drop_index("idx_check_results_contract", table_name="contract_check_results")
    op.drop_table("contract_check_results")
