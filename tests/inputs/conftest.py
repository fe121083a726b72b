"""Fixtures for the bad-input tests: a valid contract to break, and what a clean CLI error is."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests._factories import odcs

# A valid ODCS v3 contract for table sales.orders; tests copy it and break one thing.
VALID_CONTRACT = odcs(
    {
        "name": "orders",
        "physicalName": "sales.orders",
        "properties": [
            {"name": "order_id", "logicalType": "integer", "required": True},
            {"name": "updated_at", "logicalType": "timestamp"},
        ],
    },
    id="orders-v1",
    sla=[{"property": "latency", "value": 6, "unit": "h", "element": "orders.updated_at"}],
)


@pytest.fixture
def contract_doc() -> Callable[..., dict[str, Any]]:
    """A fresh copy of ``VALID_CONTRACT``, with top-level keys replaced (None deletes one)."""

    def make(**changes: Any) -> dict[str, Any]:
        doc = copy.deepcopy(VALID_CONTRACT)
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        return doc

    return make


@pytest.fixture
def contract_file(
    contract_doc: Callable[..., dict[str, Any]], write_contract: Callable[..., Path]
) -> Callable[..., Path]:
    """Write ``contract_doc(**changes)`` to a file of its own; return the path."""

    def write(**changes: Any) -> Path:
        return write_contract(contract_doc(**changes))

    return write


@pytest.fixture
def expect_input_error(caplog: pytest.LogCaptureFixture) -> Callable[..., str]:
    """Assert a CLI result is exit 2 with one ``Error:`` line and no traceback; return stderr."""

    def check(result: Any, *fragments: str) -> str:
        everything = result.stdout + result.stderr
        assert result.exception is None, f"unexpected exception: {result.exception!r}"
        assert "Traceback" not in everything
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        assert result.exit_code == 2, everything
        error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, result.stderr
        assert not [line for line in result.stdout.splitlines() if line.startswith("Error")]
        for fragment in fragments:
            assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
        return result.stderr

    return check


@pytest.fixture
def no_manifest_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty working directory with ``$FLOE_MANIFEST`` unset; return that directory."""
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.delenv("FLOE_MANIFEST", raising=False)
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture
def orders_table(catalog: Any) -> Any:
    """Table sales.orders in ``catalog``, matching ``VALID_CONTRACT``, with one fresh row."""
    from datetime import UTC, datetime

    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField, TimestampType

    from floe_core.testing.iceberg import create_table

    schema = Schema(
        NestedField(1, "order_id", LongType(), required=True),
        NestedField(2, "updated_at", TimestampType(), required=False),
    )
    table = create_table(catalog, "sales.orders", schema)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = pa.table(
        {
            "order_id": pa.array([1], pa.int64()),
            "updated_at": pa.array([now], pa.timestamp("us")),
        },
        schema=pa.schema(
            [
                pa.field("order_id", pa.int64(), nullable=False),
                pa.field("updated_at", pa.timestamp("us"), nullable=True),
            ]
        ),
    )
    table.append(rows)
    return table
