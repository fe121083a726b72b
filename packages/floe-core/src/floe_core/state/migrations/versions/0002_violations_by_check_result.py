"""Index contract_violations.check_result_id, the foreign key retention deletes through.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

A departure from the design's DDL, which indexes no foreign key: deleting a day of expired
check results makes PostgreSQL look up, for every deleted row, the violations that reference
it. Without this index each lookup scans the whole violations table, and purging one day of a
thousand contracts (about 400,000 results) would take hours instead of seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_violations_check_result", "contract_violations", ["check_result_id"])


def downgrade() -> None:
    op.drop_index("idx_violations_check_result", table_name="contract_violations")
