"""The migrations create exactly the documented schema, and the models agree with them.

On PostgreSQL the documented DDL (``documented_schema.sql``, verbatim from the design's data
model) and floe's departures from it (``schema_departures.sql``: an index on the foreign key
that retention deletes through, and the alert state tables) run on one fresh database and
floe's migrations on another; their catalogs (information_schema columns, constraints,
indexes) must be identical. On both backends, Alembic's autogenerate comparison finds no
difference between ``Base.metadata`` and the migrated database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from floe_core.state.engine import (
    HEAD_REVISION,
    VERSION_TABLE,
    alembic_config,
    upgrade,
)
from floe_core.state.models import Base
from tests.state._db import state_connection

DOCUMENTED_DDL = (Path(__file__).parent / "documented_schema.sql").read_text()
DEPARTURES_DDL = (Path(__file__).parent / "schema_departures.sql").read_text()
TABLES = {
    "contract_check_results",
    "contract_violations",
    "contract_sla_status",
    "contract_daily_aggregates",
    "registered_contracts",
    "alert_dedup_state",
    "alert_channel_state",  # schema_departures.sql, from here on
    "alert_deliveries",
    "alert_silences",
    "monitor_schedule",
    "monitor_replicas",
    "monitor_jobs",
}
INDEXES = {
    "idx_check_results_contract",
    "idx_check_results_type",
    "idx_violations_contract",
    "idx_violations_severity",
    "idx_violations_check_result",  # schema_departures.sql
    "idx_alert_deliveries_contract",
    "idx_monitor_schedule_due",
}


@dataclass(frozen=True, order=True)
class ColumnInfo:
    """One row of ``information_schema.columns``."""

    table: str
    position: int
    name: str
    data_type: str
    max_length: int | None
    nullable: bool
    default: str | None


@dataclass(frozen=True, order=True)
class ConstraintInfo:
    """One row of ``pg_constraint``: primary keys, foreign keys, unique and check constraints."""

    table: str
    name: str
    kind: str
    definition: str


@dataclass(frozen=True, order=True)
class IndexInfo:
    """One row of ``pg_indexes``."""

    table: str
    name: str
    definition: str


@dataclass(frozen=True)
class PgSchema:
    """What the PostgreSQL catalog says about the tables of the ``public`` schema."""

    tables: frozenset[str]
    columns: tuple[ColumnInfo, ...]
    constraints: tuple[ConstraintInfo, ...]
    indexes: tuple[IndexInfo, ...]

    def without(self, table: str) -> PgSchema:
        return PgSchema(
            tables=self.tables - {table},
            columns=tuple(c for c in self.columns if c.table != table),
            constraints=tuple(c for c in self.constraints if c.table != table),
            indexes=tuple(i for i in self.indexes if i.table != table),
        )


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def read_pg_schema(url: str) -> PgSchema:
    with psycopg.connect(libpq(url)) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        columns = conn.execute(
            """
            SELECT table_name, ordinal_position, column_name, data_type,
                   character_maximum_length, is_nullable = 'YES', column_default
            FROM information_schema.columns WHERE table_schema = 'public'
            """
        ).fetchall()
        constraints = conn.execute(
            """
            SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            """
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ).fetchall()
    return PgSchema(
        tables=frozenset(name for (name,) in tables),
        columns=tuple(sorted(ColumnInfo(*row) for row in columns)),
        constraints=tuple(sorted(ConstraintInfo(*row) for row in constraints)),
        indexes=tuple(sorted(IndexInfo(*row) for row in indexes)),
    )


@pytest.fixture
def documented_pg_schema(new_postgres_database: Callable[[], str]) -> PgSchema:
    url = new_postgres_database()
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(DOCUMENTED_DDL)  # files of ours, without parameters
        conn.execute(DEPARTURES_DDL)
    return read_pg_schema(url)


@pytest.fixture
def migrated_pg_schema(postgresql_state_url: str) -> PgSchema:
    asyncio.run(upgrade(postgresql_state_url))
    return read_pg_schema(postgresql_state_url)


def test_migrations_create_exactly_the_documented_postgresql_schema(
    documented_pg_schema: PgSchema, migrated_pg_schema: PgSchema
) -> None:
    assert migrated_pg_schema.tables == documented_pg_schema.tables | {VERSION_TABLE}
    migrated = migrated_pg_schema.without(VERSION_TABLE)
    assert migrated.columns == documented_pg_schema.columns
    assert migrated.constraints == documented_pg_schema.constraints
    assert migrated.indexes == documented_pg_schema.indexes


def test_documented_postgresql_types_defaults_and_keys(migrated_pg_schema: PgSchema) -> None:
    # Spelled out for readers; the test above compares everything with the documented DDL.
    columns = {(c.table, c.name): c for c in migrated_pg_schema.columns}
    check_id = columns["contract_check_results", "id"]
    assert (check_id.data_type, check_id.nullable, check_id.default) == (
        "uuid",
        False,
        "gen_random_uuid()",
    )
    checked_at = columns["contract_check_results", "checked_at"]
    assert (checked_at.data_type, checked_at.nullable, checked_at.default) == (
        "timestamp with time zone",
        False,
        "now()",
    )
    assert columns["contract_check_results", "details"].default == "'{}'::jsonb"
    assert columns["contract_check_results", "violation"].data_type == "jsonb"
    assert columns["contract_violations", "affected_consumers"].default == "'[]'::jsonb"
    assert columns["contract_violations", "contract_name"].max_length == 255
    assert columns["contract_violations", "message"].data_type == "text"
    assert columns["contract_sla_status", "current_value"].data_type == "double precision"
    assert columns["contract_sla_status", "consecutive_failures"].default == "0"
    assert columns["contract_daily_aggregates", "date"].data_type == "date"
    assert columns["contract_daily_aggregates", "total_checks"].data_type == "integer"
    assert columns["registered_contracts", "active"].default == "true"
    assert columns["alert_dedup_state", "alert_count_window"].default == "1"

    keys = {(c.table, c.kind): c.definition for c in migrated_pg_schema.constraints}
    assert keys["contract_violations", "f"] == (
        "FOREIGN KEY (check_result_id) REFERENCES contract_check_results(id)"
    )
    assert keys["contract_sla_status", "p"] == "PRIMARY KEY (contract_name, check_type)"
    assert keys["contract_daily_aggregates", "p"] == "PRIMARY KEY (contract_name, check_type, date)"
    indexes = {i.name for i in migrated_pg_schema.indexes if i.table in TABLES}
    assert indexes - {f"{table}_pkey" for table in TABLES} == INDEXES


def _differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, metadata))


def differences(state_url: str, metadata: MetaData) -> list[Any]:
    async def run() -> list[Any]:
        async with state_connection(state_url, upgraded=True) as conn:
            return await conn.run_sync(_differences, metadata)

    return asyncio.run(run())


def test_models_and_migrations_agree(state_url: str) -> None:
    assert differences(state_url, Base.metadata) == []


def test_a_model_that_drifted_from_the_migrations_is_noticed(state_url: str) -> None:
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["contract_sla_status"].c.consecutive_failures.server_default = None
    [[(change, *_)]] = differences(state_url, drifted)
    assert change == "modify_default"


def test_migrated_tables_and_indexes_on_each_backend(state_url: str) -> None:
    def names(sync: Connection) -> tuple[set[str], set[str]]:
        found = inspect(sync)
        tables = set(found.get_table_names())
        indexes = {i["name"] for t in TABLES for i in found.get_indexes(t)}
        return tables, {str(name) for name in indexes}

    async def run() -> tuple[set[str], set[str]]:
        async with state_connection(state_url, upgraded=True) as conn:
            return await conn.run_sync(names)

    tables, indexes = asyncio.run(run())
    assert tables == TABLES | {VERSION_TABLE}
    assert indexes == INDEXES


def test_head_revision_constant_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def insert_row(state_url: str, table: str, values: dict[str, Any]) -> Any:
    """Upgrade the database, insert ``values`` (column -> value) into ``table`` with plain SQL,
    and return the row as stored, server defaults filled in."""
    columns = ", ".join(values)
    placeholders = ", ".join(f":{column}" for column in values)

    async def run() -> Any:
        async with state_connection(state_url, upgraded=True) as conn:
            await conn.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"), values
            )
            return (await conn.execute(Base.metadata.tables[table].select())).one()

    return asyncio.run(run())


def test_server_defaults_fill_rows_on_each_backend(state_url: str) -> None:
    row = insert_row(
        state_url,
        "contract_check_results",
        {
            "contract_name": "orders",
            "check_type": "freshness",
            "status": "pass",
            "duration_seconds": 0.5,
        },
    )
    assert row.id.version == 4
    assert row.checked_at is not None
    assert row.created_at is not None
    assert row.details == {}
    assert row.violation is None


def test_foreign_key_is_enforced_on_each_backend(state_url: str) -> None:
    violation = {
        "contract_name": "orders",
        "contract_version": "1.0.0",
        "violation_type": "freshness",
        "severity": "error",
        "message": "stale",
        "check_result_id": "0" * 32,  # no such check result
    }
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        insert_row(state_url, "contract_violations", violation)
