"""``floe sla check --check quality --format json`` end to end, and no row value in its output
whatever the rules do with distinctive values: fail on them, return them, or choke on them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

TABLE = "sales.customers"
SECRETS = ["ZEBRA-7731-PRIVATE", "QUOKKA-0042-PRIVATE", "ZEBRA-7731-PRIVATE", "NARWHAL-99-SECRET"]
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("token", pa.string())])
ROWS = {"id": [1, 2, 3, 4], "token": SECRETS}


def test_cli_json_reports_the_quality_check_alone(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    rules = [{"id": "enough_rows", "metric": "rowCount", "mustBeGreaterOrEqualTo": len(SECRETS)}]
    contract = lake.contract(lake.obj(TABLE, [{"name": "id"}], rules, name="customers"))

    result, doc = lake.cli(contract, "--check", "quality")

    assert result.exit_code == 0, result.stderr
    assert doc is not None
    [check] = doc["results"]
    assert (check["check_type"], check["status"]) == ("quality", "pass")
    assert check["details"]["quality_score"] == 100.0
    assert check["details"]["rules"][0]["measured"] == len(SECRETS)
    assert doc["violations"] == []


def test_no_row_value_reaches_any_event_or_detail(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    token_rules = [
        {
            "id": "digits_only",
            "metric": "invalidValues",
            "arguments": {"pattern": "^[0-9]+$"},
            "mustBe": 0,
        },
        {
            "id": "known_tokens",
            "metric": "invalidValues",
            "arguments": {"validValues": ["x"]},
            "mustBe": 0,
            "unit": "percent",
        },
        {"id": "unique_tokens", "metric": "duplicateValues", "mustBe": 0},
        {
            "id": "returns_a_value",
            "type": "sql",
            "query": "SELECT max(${column}) FROM ${table}",
            "mustBe": 0,
        },
        {
            "id": "casts_a_value",
            "type": "sql",
            "query": "SELECT sum(CAST(${column} AS INTEGER)) FROM ${table}",
            "mustBe": 0,
        },
    ]
    properties = [{"name": "id"}, {"name": "token", "quality": token_rules}]
    contract = lake.contract(lake.obj(TABLE, properties, name="customers"))

    result, doc = lake.cli(contract, "--check", "quality")

    assert result.exit_code == 1, result.stderr
    assert doc is not None
    assert {v["metadata"]["rule"] for v in doc["violations"]} == {
        "digits_only",
        "known_tokens",
        "unique_tokens",
    }
    rules = {r["rule"]: r for r in doc["results"][0]["details"]["rules"]}
    assert rules["returns_a_value"]["reason"] == "sql_not_a_number"
    assert rules["casts_a_value"]["reason"] == "sql_error"
    assert "withheld" in rules["casts_a_value"]["message"]
    for secret in {*SECRETS, "ZEBRA", "QUOKKA", "NARWHAL"}:
        assert secret not in result.stdout
        assert secret not in result.stderr
