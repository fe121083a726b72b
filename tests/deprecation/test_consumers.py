"""Every violation event names the contract's consumers in ``affected_consumers``.

Consumers come from the ``consumers`` custom property, then from the roles with read access,
in declaration order, each once. The events here come from real checks on a real table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from floe_core.contracts.consumers import affected_consumers
from floe_core.contracts.model import DataContract
from floe_core.events import CheckReport
from floe_core.testing.iceberg import create_table

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)
ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
        pa.field("note", pa.string()),  # not in the contract: schema drift
    ]
)

FORMS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "property-string": (
        {"custom": [{"property": "consumers", "value": "finance-dashboard"}]},
        ["finance-dashboard"],
    ),
    "property-list": (
        {"custom": [{"property": "consumers", "value": ["bi", "ml-features"]}]},
        ["bi", "ml-features"],
    ),
    "property-mappings": (
        {
            "custom": [
                {
                    "property": "consumers",
                    "value": [
                        {"name": "bi", "team": "analytics", "contact": "bi@example.com"},
                        {"name": "risk"},
                        "ml",
                    ],
                }
            ]
        },
        ["bi", "risk", "ml"],
    ),
    "read-roles": (
        {
            "roles": [
                {"role": "analyst", "access": "read"},
                {"role": "etl_writer", "access": "write"},
                {"role": "viewer", "access": "Read"},
            ]
        },
        ["analyst", "viewer"],
    ),
    "both-deduplicated": (
        {
            "custom": [{"property": "consumers", "value": ["bi", "analyst"]}],
            "roles": [
                {"role": "analyst", "access": "read"},
                {"role": "auditor", "access": "read"},
            ],
        },
        ["bi", "analyst", "auditor"],
    ),
    "none": ({}, []),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_consumers_on_freshness_drift_and_deprecation_events(
    catalog: Any,
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    form: str,
) -> None:
    declaration, expected = FORMS[form]
    table = create_table(catalog, "sales.orders", ORDERS)
    rows = {"id": [1, 2], "updated_at": [NOW - timedelta(days=3), NOW - timedelta(days=2)]}
    table.append(pa.table({**rows, "note": [None, None]}, schema=ORDERS))
    contract = lifecycle_contract(
        status="deprecated",
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": "updated_at"}],
        **declaration,
    )

    report = run_checks(contract, NOW, types=["freshness", "schema_drift", "deprecation"])

    kinds = {event.violation_type.value for event in report.violations}
    assert kinds == {"freshness", "schema_drift", "deprecation"}, report.results
    for event in report.violations:
        assert event.affected_consumers == expected, event.violation_type
    for result in report.results:
        assert result.violation is not None
        assert result.violation.affected_consumers == expected


def contract_with(**fields: Any) -> DataContract:
    return DataContract.model_validate(
        {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "c", "version": "1", **fields}
    )


@pytest.mark.parametrize("form", list(FORMS))
def test_affected_consumers_per_form(form: str) -> None:
    declaration, expected = FORMS[form]
    fields: dict[str, Any] = {}
    if "custom" in declaration:
        fields["customProperties"] = declaration["custom"]
    if "roles" in declaration:
        fields["roles"] = declaration["roles"]
    assert affected_consumers(contract_with(**fields)) == expected


def test_what_names_no_one() -> None:
    contract = contract_with(
        customProperties=[
            {"property": "owner", "value": "sales"},
            {"property": "Consumers", "value": [" bi ", "", {"team": "no-name"}, 42, None]},
            {"property": "consumers"},
        ],
        roles=[
            {"role": "admin", "access": "write"},
            {"role": "reader"},  # access unknown: not counted
            {"access": "read"},  # no role name
            {"role": "  ", "access": "read"},
            {"role": "bi", "access": " READ "},
        ],
        schema=[
            {
                "name": "orders",
                "customProperties": [{"property": "consumers", "value": ["object-level"]}],
            }
        ],
        servers=[
            {
                "server": "prod",
                "type": "iceberg",
                "roles": [{"role": "server-reader", "access": "read"}],
            }
        ],
    )
    assert affected_consumers(contract) == ["bi"]
