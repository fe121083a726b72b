"""The availability SLA in slaProperties: the spellings accepted, and errors with a path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from floe_core.contracts.loader import parse_contract
from floe_core.contracts.sla import availability_slas, freshness_slas
from floe_core.errors import ContractError


def contract_text(*sla: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v3.1.0",
            "kind": "DataContract",
            "id": "orders-v1",
            "version": "1.0.0",
            "status": "active",
            "schema": [{"name": "orders", "physicalName": "sales.orders"}],
            "slaProperties": list(sla),
        },
        sort_keys=False,
    )


@pytest.mark.parametrize(
    ("value", "unit", "target"),
    [
        (99.9, "percent", "99.9"),
        (99.9, "%", "99.9"),
        ("99.9%", None, "99.9"),
        ("99.9 %", None, "99.9"),
        ("95%", "%", "95"),
        ("99.95", "Percent", "99.95"),
        (99, "percentage", "99"),
        (100, "pct", "100"),
        ("0.5%", None, "0.5"),
    ],
)
def test_spellings_of_a_percentage(value: Any, unit: str | None, target: str) -> None:
    entry = {"property": "availability", "value": value}
    if unit is not None:
        entry["unit"] = unit
    contract = parse_contract(contract_text(entry))

    [sla] = availability_slas(contract)

    assert sla.target_pct == Decimal(target)
    assert sla.path == "slaProperties[0]"


def test_availability_beside_freshness() -> None:
    contract = parse_contract(
        contract_text(
            {"property": "latency", "value": 6, "unit": "h"},
            {"property": "Availability", "value": "99.5%"},
            {"property": "generalAvailability", "value": "2024-01-01"},  # an ODCS date
        )
    )

    assert [s.path for s in availability_slas(contract)] == ["slaProperties[1]"]
    assert len(freshness_slas(contract)) == 1


@pytest.mark.parametrize(
    ("value", "unit", "where", "says"),
    [
        (99.9, "ms", "slaProperties[0].unit", "unknown unit 'ms'"),
        (99.9, None, "slaProperties[0].value", "has no unit; add unit: percent"),
        ("abc%", None, "slaProperties[0].value", "expected a percentage such as 99.9"),
        ("nan%", None, "slaProperties[0].value", "not a percentage above 0 and at most 100"),
        (0, "percent", "slaProperties[0].value", "not a percentage above 0 and at most 100"),
        (100.1, "percent", "slaProperties[0].value", "not a percentage above 0 and at most 100"),
        (-5, "%", "slaProperties[0].value", "not a percentage above 0 and at most 100"),
        (True, "percent", "slaProperties[0].value", "expected a percentage such as 99.9"),
        (None, "percent", "slaProperties[0].value", "expected a percentage such as 99.9"),
    ],
)
def test_bad_availability_is_a_contract_error_with_its_path(
    value: Any, unit: str | None, where: str, says: str
) -> None:
    entry: dict[str, Any] = {"property": "availability", "value": value}
    if unit is not None:
        entry["unit"] = unit

    with pytest.raises(ContractError) as caught:
        parse_contract(contract_text(entry), source="orders.yaml")

    assert caught.value.path.startswith(f"{where} (line ")
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"orders.yaml, at {where}")


def test_the_second_entry_is_located() -> None:
    with pytest.raises(ContractError) as caught:
        parse_contract(
            contract_text(
                {"property": "availability", "value": 99, "unit": "%"},
                {"property": "availability", "value": 99, "unit": "nines"},
            )
        )
    assert caught.value.path.startswith("slaProperties[1].unit")
