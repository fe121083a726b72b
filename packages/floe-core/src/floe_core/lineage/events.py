"""OpenLineage run events for one check run, as plain JSON-ready dicts (OpenLineage 2-0-2).

A run that found violations is a START and a FAIL event of job
``contract_check.<contract>.<check type>``, the FAIL event carrying floe's
``contractViolation`` run facet. A run that could not check is a START and a FAIL with the
standard ``errorMessage`` facet. A passing (or skipped) run emits nothing unless asked to.
Nothing here opens a connection, and no event carries a row value: only what the violation
events and the per-rule details already hold (names, counts, types, thresholds).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from floe_core._time import as_utc
from floe_core.events import CheckResult, CheckStatus, ContractViolationEvent, ViolationType

PRODUCER = "https://github.com/floe-dev/floe"
"""The ``producer`` of every event and the ``_producer`` of every facet floe writes."""

RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMA_ID = (
    "https://github.com/floe-dev/floe/blob/main/packages/floe-core/src/floe_core/lineage/"
    "facets/ContractViolationRunFacet.json"
)
"""The ``$id`` of the ``contractViolation`` facet's JSON Schema, shipped in this package."""
CONTRACT_VIOLATION_SCHEMA_URL = f"{FACET_SCHEMA_ID}#/$defs/ContractViolationRunFacet"
ERROR_MESSAGE_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
)
DATA_QUALITY_ASSERTIONS_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet"
)
SCHEMA_DATASET_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
"""The standard ``schema`` dataset facet, the version openlineage-python's model is built from."""

_FACET_FILE = "ContractViolationRunFacet.json"
_ASSERTED = {"pass", "fail"}  # rules that were evaluated; skipped and errored ones were not


@cache
def _facet_schema_text() -> str:
    return (resources.files(__package__) / "facets" / _FACET_FILE).read_text(encoding="utf-8")


def facet_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the ``contractViolation`` run facet; a fresh copy."""
    schema: dict[str, Any] = json.loads(_facet_schema_text())
    return schema


def job_name(result: CheckResult) -> str:
    """``contract_check.<contract>.<check type>``: one OpenLineage job per contract and check."""
    return f"contract_check.{result.contract_name}.{result.check_type.value}"


def run_id(result: CheckResult) -> str:
    """The result's id when it is a UUID (floe's always are), else a UUID derived from it."""
    try:
        return str(uuid.UUID(result.id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/check-result/{result.id}"))


def run_events(
    result: CheckResult,
    events: Sequence[ContractViolationEvent],
    *,
    namespace: str = "floe",
    dataset_namespace: str,
    tables: Sequence[str],
    emit_on_pass: bool = False,
) -> list[dict[str, Any]]:
    """The OpenLineage RunEvents of one check run: ``[]``, or a START and its closing event.

    ``events`` are every violation of the run (``result.violation`` is only the most severe);
    ``tables`` the run's Iceberg identifiers (``namespace.table``), each an input dataset in
    ``dataset_namespace`` (the catalog's).
    """
    found = list(events) or ([result.violation] if result.violation is not None else [])
    errored = result.status is CheckStatus.ERROR
    violated = result.status is CheckStatus.FAIL or bool(found)
    if not (errored or violated or emit_on_pass):
        return []
    run_facets: dict[str, Any] = {}
    if errored:
        run_facets["errorMessage"] = _error_message(result)
    if found:
        run_facets["contractViolation"] = contract_violation_facet(found)
    closing = "FAIL" if errored or violated else "COMPLETE"
    started = as_utc(result.timestamp)
    ended = started + timedelta(seconds=max(result.duration_seconds, 0.0))
    start = _event("START", started, result, namespace, _dataset(dataset_namespace, tables))
    end = _event(
        closing, ended, result, namespace, _inputs(result, dataset_namespace, tables), run_facets
    )
    return [start, end]


def contract_violation_facet(events: Sequence[ContractViolationEvent]) -> dict[str, Any]:
    """The ``contractViolation`` run facet: the most severe event's fields and all events."""
    if not events:
        raise ValueError("a contractViolation facet needs at least one violation event")
    # The first of the most severe, so the facet's head matches the result's own violation.
    ordered = sorted(events, key=lambda e: e.severity.rank, reverse=True)
    return {
        "_producer": PRODUCER,
        "_schemaURL": CONTRACT_VIOLATION_SCHEMA_URL,
        **_violation(ordered[0]),
        "violations": [_violation(e) for e in ordered],
    }


def _violation(event: ContractViolationEvent) -> dict[str, Any]:
    return {
        "contractName": event.contract_name,
        "contractVersion": event.contract_version,
        "violationType": event.violation_type.value,
        "severity": event.severity.value,
        "message": event.message,
        "element": event.element,
        "expectedValue": event.expected_value,
        "actualValue": event.actual_value,
        "timestamp": _iso(event.timestamp),
    }


def _error_message(result: CheckResult) -> dict[str, Any]:
    details = result.details
    message = details.get("message") or details.get("reason") or "the check could not run"
    return {
        "_producer": PRODUCER,
        "_schemaURL": ERROR_MESSAGE_SCHEMA_URL,
        "message": str(message),
        "programmingLanguage": "python",
    }


def _event(
    event_type: str,
    at: datetime,
    result: CheckResult,
    namespace: str,
    inputs: list[dict[str, Any]],
    run_facets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    run: dict[str, Any] = {"runId": run_id(result)}
    if run_facets:
        run["facets"] = dict(run_facets)
    return {
        "eventType": event_type,
        "eventTime": _iso(at),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA_URL,
        "run": run,
        "job": {"namespace": namespace, "name": job_name(result)},
        "inputs": inputs,
        "outputs": [],
    }


def _dataset(dataset_namespace: str, tables: Sequence[str]) -> list[dict[str, Any]]:
    return [{"namespace": dataset_namespace, "name": t} for t in dict.fromkeys(tables)]


def _inputs(
    result: CheckResult, dataset_namespace: str, tables: Sequence[str]
) -> list[dict[str, Any]]:
    """The input datasets: after a quality run each with its ``dataQualityAssertions``, after a
    schema-drift run each with the standard ``schema`` facet of its live columns.

    A drift result's details carry the columns per table (names and types, nested struct
    fields); one persisted before they did gets no ``schema`` facet.
    """
    datasets = _dataset(dataset_namespace, tables)
    if result.check_type is ViolationType.SCHEMA_DRIFT:
        return _with_schemas(datasets, result.details)
    if result.check_type is not ViolationType.QUALITY:
        return datasets
    rules = result.details.get("rules")
    if not isinstance(rules, list):
        return datasets
    for dataset in datasets:
        assertions = [
            _assertion(rule)
            for rule in rules
            if isinstance(rule, dict)
            and rule.get("table") == dataset["name"]
            and rule.get("status") in _ASSERTED
        ]
        if assertions:
            dataset["inputFacets"] = {
                "dataQualityAssertions": {
                    "_producer": PRODUCER,
                    "_schemaURL": DATA_QUALITY_ASSERTIONS_SCHEMA_URL,
                    "assertions": assertions,
                }
            }
    return datasets


def _with_schemas(
    datasets: list[dict[str, Any]], details: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each dataset whose table the drift details list with columns gets a ``schema`` facet."""
    tables = details.get("tables")
    if not isinstance(tables, list):
        return datasets
    columns = {
        t["table"]: t["columns"]
        for t in tables
        if isinstance(t, dict) and isinstance(t.get("columns"), list)
    }
    for dataset in datasets:
        fields = _schema_fields(columns.get(dataset["name"], []))
        if fields:
            dataset["facets"] = {
                "schema": {
                    "_producer": PRODUCER,
                    "_schemaURL": SCHEMA_DATASET_SCHEMA_URL,
                    "fields": fields,
                }
            }
    return datasets


def _schema_fields(columns: Sequence[Any]) -> list[dict[str, Any]]:
    """The facet's ``fields``: each column's name, type and (for a struct) nested fields."""
    fields: list[dict[str, Any]] = []
    for column in columns:
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            continue
        field: dict[str, Any] = {"name": column["name"]}
        if isinstance(column.get("type"), str):
            field["type"] = column["type"]
        nested = column.get("fields")
        if isinstance(nested, list) and nested:
            field["fields"] = _schema_fields(nested)
        fields.append(field)
    return fields


def _assertion(rule: Mapping[str, Any]) -> dict[str, Any]:
    """One quality rule's outcome: its name, pass or not, its column, severity, thresholds."""
    assertion: dict[str, Any] = {
        "assertion": str(rule.get("rule")),
        "success": rule.get("status") == "pass",
    }
    if rule.get("element"):
        assertion["column"] = str(rule["element"])
    if rule.get("severity"):
        assertion["severity"] = str(rule["severity"])
    if isinstance(rule.get("expected"), str):
        assertion["expected"] = rule["expected"]
    measured = rule.get("measured")
    if isinstance(measured, int | float) and not isinstance(measured, bool):
        assertion["actual"] = _number(float(measured))
    return assertion


def _number(value: float) -> str:
    """``5`` for 5.0, ``12.5`` for 12.5: a measured count or percentage as text."""
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the millisecond."""
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
