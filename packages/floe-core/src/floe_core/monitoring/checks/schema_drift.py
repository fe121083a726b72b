"""Schema drift: does each table's live Iceberg schema still match the contract's properties?

Every difference is its own finding, with ``element`` the column path (``address.city``;
list elements are ``tags.element``, map parts ``attrs.key`` / ``attrs.value``) and
``metadata["change"]`` one of the ``CHANGE_*`` names. The check fails when a finding is ERROR
or worse; additions and tightened nullability leave it passing with the events attached.

The details list each table with its live columns (names and types only, never a value):
``{"name": "id", "type": "long"}``; a struct is ``"type": "struct"`` with its own ``fields``,
a list or map one type string (``list<string>``, ``map<string, long>``,
``list<struct<sku: string, qty: int>>``). Lineage events show them as the ``schema`` facet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from floe_core.contracts.iceberg_types import logical_matches, logical_type, physical_matches
from floe_core.contracts.model import DataContract, SchemaProperty
from floe_core.contracts.tables import ContractTable
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome, Finding

if TYPE_CHECKING:
    from pyiceberg.types import IcebergType, NestedField

CHANGE_ADDED = "column_added"
CHANGE_REMOVED = "column_removed"
CHANGE_TYPE = "type_changed"
CHANGE_NULLABILITY = "nullability_changed"
CHANGE_CONSTRAINT = "constraint_changed"

S = ViolationSeverity


class SchemaDriftCheck(Check):
    """Compares contract properties with the live schema, nested structs included."""

    check_type = ViolationType.SCHEMA_DRIFT

    def applies(self, contract: DataContract, tables: Sequence[ContractTable]) -> bool:
        return any(t.schema_object.properties for t in tables)

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        described = [t for t in ctx.tables if t.schema_object.properties]
        if not described:
            return CheckOutcome.skipped("the contract's schema objects define no properties")
        unresolved = [t for t in described if t.identifier is None]
        if unresolved:
            return CheckOutcome.error("table_unresolved", unresolved[0].problem or "")
        findings: list[Finding] = []
        tables: list[dict[str, Any]] = []
        for table in described:
            assert table.identifier is not None
            iceberg = ctx.view(table.identifier)
            schema = iceberg.schema()
            diff = _Differ(table.identifier, table.object_name, set(schema.identifier_field_ids))
            found = diff.compare(table.schema_object.properties or [], schema.fields, "")
            findings.extend(found)
            tables.append(
                {
                    "table": table.identifier,
                    "schema_id": schema.schema_id,
                    "changes": len(found),
                    "columns": _columns(schema.fields),
                }
            )
        failed = any(f.severity.rank >= S.ERROR.rank for f in findings)
        status = CheckStatus.FAIL if failed else CheckStatus.PASS
        return CheckOutcome(status, {"tables": tables, "changes": len(findings)}, findings)


def _columns(fields: Iterable[NestedField]) -> list[dict[str, Any]]:
    """The columns as JSON: name and type, a struct's columns under ``fields``."""
    from pyiceberg.types import StructType

    columns: list[dict[str, Any]] = []
    for field in fields:
        column: dict[str, Any] = {"name": field.name, "type": _type_name(field.field_type)}
        if isinstance(field.field_type, StructType):
            column["fields"] = _columns(field.field_type.fields)
        columns.append(column)
    return columns


def _type_name(kind: IcebergType) -> str:
    """``long``, ``decimal(10, 2)``, ``struct``; inside a list or map a struct spells its fields."""
    from pyiceberg.types import StructType

    return "struct" if isinstance(kind, StructType) else _inline(kind)


def _inline(kind: IcebergType) -> str:
    from pyiceberg.types import ListType, MapType, StructType

    if isinstance(kind, StructType):
        return f"struct<{', '.join(f'{f.name}: {_inline(f.field_type)}' for f in kind.fields)}>"
    if isinstance(kind, ListType):
        return f"list<{_inline(kind.element_type)}>"
    if isinstance(kind, MapType):
        return f"map<{_inline(kind.key_type)}, {_inline(kind.value_type)}>"
    return str(kind)


def _name(prop: SchemaProperty) -> str:
    return (prop.physicalName or prop.name or "").strip()


def _describe(prop: SchemaProperty) -> str:
    return prop.physicalType or prop.logicalType or "any type"


class _Differ:
    def __init__(self, identifier: str, object_name: str, identifier_ids: set[int]) -> None:
        self.identifier = identifier
        self.object_name = object_name
        self.identifier_ids = identifier_ids

    def compare(
        self, props: Iterable[SchemaProperty], fields: Iterable[NestedField], prefix: str
    ) -> list[Finding]:
        findings: list[Finding] = []
        by_name = {f.name: f for f in fields}
        by_lower = {f.name.lower(): f for f in by_name.values()}
        matched: set[str] = set()
        for prop in props:
            name = _name(prop)
            if not name:
                continue
            field = by_name.get(name) or by_lower.get(name.lower())
            path = f"{prefix}{name}"
            if field is None:
                findings.append(
                    self._finding(
                        S.CRITICAL,
                        CHANGE_REMOVED,
                        path,
                        f"column {path} is in the contract but no longer in the table",
                        _describe(prop),
                        "absent",
                    )
                )
                continue
            matched.add(field.name)
            findings.extend(self._compare_field(prop, field, f"{prefix}{field.name}"))
        for field in by_name.values():
            if field.name not in matched:
                path = f"{prefix}{field.name}"
                findings.append(
                    self._finding(
                        S.WARNING,
                        CHANGE_ADDED,
                        path,
                        f"column {path} ({field.field_type}) is in the table, not in the contract",
                        "absent",
                        str(field.field_type),
                    )
                )
        return findings

    def _compare_field(self, prop: SchemaProperty, field: NestedField, path: str) -> list[Finding]:
        findings = self._compare_type(prop, field.field_type, path)
        required = bool(prop.required)
        if required and field.optional:
            findings.append(
                self._finding(
                    S.ERROR,
                    CHANGE_NULLABILITY,
                    path,
                    f"column {path} is required by the contract but nullable in the table",
                    "required",
                    "nullable",
                )
            )
        elif not required and field.required:
            findings.append(
                self._finding(
                    S.INFO,
                    CHANGE_NULLABILITY,
                    path,
                    f"column {path} is nullable in the contract but required in the table",
                    "nullable",
                    "required",
                )
            )
        is_key = field.field_id in self.identifier_ids
        if bool(prop.primaryKey) != is_key:
            expected, actual = (
                ("primary key", "not an identifier field")
                if prop.primaryKey
                else ("not a primary key", "identifier field")
            )
            findings.append(
                self._finding(
                    S.WARNING,
                    CHANGE_CONSTRAINT,
                    path,
                    f"column {path} is {expected} in the contract but {actual} in the table",
                    expected,
                    actual,
                )
            )
        return findings + self._compare_children(prop, field.field_type, path)

    def _compare_type(self, prop: SchemaProperty, actual: IcebergType, path: str) -> list[Finding]:
        verdict: bool | None = None
        expected = ""
        if prop.physicalType:
            verdict = physical_matches(prop.physicalType, actual)
            expected = prop.physicalType
        if verdict is None and prop.logicalType:
            verdict = logical_matches(prop.logicalType, actual)
            expected = prop.logicalType
        if verdict is not False:
            return []
        shown = f"{actual} (logicalType {logical_type(actual)})"
        return [
            self._finding(
                S.ERROR,
                CHANGE_TYPE,
                path,
                f"column {path} is {expected} in the contract but {actual} in the table",
                expected,
                shown,
            )
        ]

    def _compare_children(
        self, prop: SchemaProperty, actual: IcebergType, path: str
    ) -> list[Finding]:
        from pyiceberg.types import ListType, MapType, StructType

        if isinstance(actual, StructType) and prop.properties:
            return self.compare(prop.properties, actual.fields, f"{path}.")
        if isinstance(actual, ListType) and prop.items is not None:
            return self._compare_part(prop.items, actual.element_field, f"{path}.element")
        if isinstance(actual, MapType) and prop.map is not None:
            found = []
            if prop.map.key is not None:
                found += self._compare_part(prop.map.key, actual.key_field, f"{path}.key")
            if prop.map.value is not None:
                found += self._compare_part(prop.map.value, actual.value_field, f"{path}.value")
            return found
        return []

    def _compare_part(self, prop: SchemaProperty, field: NestedField, path: str) -> list[Finding]:
        return self._compare_type(prop, field.field_type, path) + self._compare_children(
            prop, field.field_type, path
        )

    def _finding(
        self,
        severity: ViolationSeverity,
        change: str,
        path: str,
        message: str,
        expected: str,
        actual: str,
    ) -> Finding:
        return Finding(
            severity,
            f"{self.identifier}: {message}",
            element=path,
            expected_value=expected,
            actual_value=actual,
            metadata={"change": change, "table": self.identifier, "object": self.object_name},
        )
