"""A real SQLite-backed Iceberg lake for tests: build tables, write contracts, run ``floe``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pytest

from floe_core.testing.iceberg import create_table
from tests._factories import odcs

L = TypeVar("L", bound="Lake")


@dataclass
class Lake:
    """A real catalog, with shortcuts to build tables and check contracts against them."""

    catalog: Any
    warehouse: Path
    manifest: Path
    write_contract: Callable[..., Path]
    floe: Callable[..., Any]

    def table(
        self,
        identifier: str,
        schema: Any,
        rows: Mapping[str, list[Any]] | None = None,
        *,
        properties: dict[str, str] | None = None,
    ) -> Any:
        """Create ``identifier`` (format v2) and, if ``rows`` are given, append them."""
        create_table(self.catalog, identifier, schema, properties=properties)
        if rows is not None:
            self.append(identifier, rows)
        return self.catalog.load_table(identifier)

    def append(self, identifier: str, rows: Mapping[str, list[Any]]) -> Any:
        """Append ``rows`` (column name -> values) as one new data file; return the table."""
        table = self.catalog.load_table(identifier)
        table.append(pa.table(dict(rows), schema=table.schema().as_arrow()))
        return self.catalog.load_table(identifier)

    def load(self, identifier: str) -> Any:
        """The table as the catalog has it now."""
        return self.catalog.load_table(identifier)

    @staticmethod
    def contract(
        *objects: dict[str, Any], sla: Iterable[dict[str, Any]] = (), name: str = "orders"
    ) -> dict[str, Any]:
        """An ODCS v3 contract document (version 1.2.0) with these objects and SLAs."""
        return odcs(*objects, name=name, version="1.2.0", sla=sla)

    def cli(self, contract: dict[str, Any], *args: str) -> tuple[Any, dict[str, Any] | None]:
        """``floe sla check CONTRACT --manifest M --format json ARGS``: result and its JSON."""
        path = self.write_contract(contract)
        result = self.floe(
            "sla", "check", path, "--manifest", self.manifest, "--format", "json", *args
        )
        return result, json.loads(result.stdout) if result.stdout.strip() else None


def lake_fixture(kind: type[L]) -> Callable[..., L]:
    """A ``lake`` fixture giving each test a fresh ``kind`` on the test's own catalog."""

    @pytest.fixture
    def lake(
        catalog: Any,
        warehouse: Path,
        manifest: Path,
        write_contract: Callable[..., Path],
        floe: Callable[..., Any],
    ) -> L:
        return kind(catalog, warehouse, manifest, write_contract, floe)

    return lake
