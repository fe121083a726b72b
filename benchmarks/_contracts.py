"""The equivalent contracts floe, datacontract-cli and Soda check in the comparison.

One ODCS v3 document, written twice: the two files differ only in the name of the freshness
SLA. floe reads ODCS's ``latency``; datacontract-cli ignores ``latency`` (it builds service
level checks only from ``freshness`` and ``retention``), so its copy names the same SLA
``freshness``. Both carry the same ``iceberg`` server (catalog name, SQLAlchemy URL of the
SQLite catalog, warehouse, namespace); floe is given a manifest naming that catalog too.
Soda's contract is floe's document translated into Soda 4's contract language
(``_soda_contract.py``), on the DuckDB dataset ``_soda.py`` sets up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from _e2e import LATENCY_DAYS, odcs_property
from _soda_contract import soda_contract
from _tables import DATA_DIR, STATUSES, CachedTable

NULL_EMAIL_MAX_PERCENT = 10


@dataclass(frozen=True)
class Rule:
    """One quality rule: its ``id``, the property it sits on (None: the schema object).

    ``failing`` overrides part of the rule so that the generated data breaks it, for the
    check that both tools also agree on failures.
    """

    id: str
    column: str | None
    body: dict[str, Any]
    failing: dict[str, Any]

    def odcs(self, *, failing: bool = False) -> dict[str, Any]:
        return {"id": self.id, **self.body, **(self.failing if failing else {})}


RULES = (
    Rule(
        "email_null_percent",
        "email",
        {
            "type": "library",
            "metric": "nullValues",
            "unit": "percent",
            "mustBeLessThan": NULL_EMAIL_MAX_PERCENT,
        },
        {"mustBeLessThan": 1},
    ),
    Rule(
        "id_no_duplicates",
        "id",
        {"type": "library", "metric": "duplicateValues", "mustBe": 0},
        {"mustBe": 1},
    ),
    Rule(
        "status_valid",
        "status",
        {
            "type": "library",
            "metric": "invalidValues",
            "arguments": {"validValues": list(STATUSES)},
            "mustBe": 0,
        },
        {"arguments": {"validValues": list(STATUSES[:-1])}},
    ),
    Rule(
        "row_count",
        None,
        {"type": "library", "metric": "rowCount", "mustBeGreaterThan": 0},
        {"mustBeGreaterThan": 10**12},
    ),
    Rule(
        "amount_positive",
        None,
        {
            "type": "sql",
            "query": "SELECT COUNT(*) FROM ${table} WHERE amount <= 0",
            "mustBe": 0,
        },
        {"query": "SELECT COUNT(*) FROM ${table} WHERE amount <= 100"},
    ),
)
FAILING_LATENCY = (1, "m")  # the newest row is as old as the table: older than a minute


@dataclass(frozen=True)
class CompareInputs:
    """The files one comparison reads, next to each other in ``benchmarks/.data``.

    The ``failing_`` contracts set every threshold so that the data breaks it.
    """

    floe_contract: Path
    datacontract_contract: Path
    manifest: Path
    failing_floe_contract: Path
    failing_datacontract_contract: Path
    soda_contract: Path
    failing_soda_contract: Path

    @property
    def directory(self) -> Path:
        return self.manifest.parent


def write_inputs(cached: CachedTable, soda_dataset: str) -> CompareInputs:
    """Write the contracts and floe's manifest for ``cached``; the same catalog for the first two.

    ``soda_dataset`` is the qualified name of the dataset Soda reads (``_soda.DATASET``).
    """
    directory = DATA_DIR / f"compare-{cached.directory.name}"
    directory.mkdir(parents=True, exist_ok=True)
    inputs = CompareInputs(
        directory / "contract.floe.yaml",
        directory / "contract.datacontract.yaml",
        directory / "manifest.yaml",
        directory / "contract.floe.failing.yaml",
        directory / "contract.datacontract.failing.yaml",
        directory / "contract.soda.yaml",
        directory / "contract.soda.failing.yaml",
    )
    catalog = cached.catalog_config()
    manifest = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {"catalog": {"type": "sql", "config": catalog}},
    }
    floe = contract(cached, sla_property="latency")
    _dump(inputs.floe_contract, floe)
    _dump(inputs.datacontract_contract, contract(cached, sla_property="freshness"))
    _dump(inputs.manifest, manifest)
    failing_floe = contract(cached, sla_property="latency", failing=True)
    _dump(inputs.failing_floe_contract, failing_floe)
    failing = contract(cached, sla_property="freshness", failing=True)
    _dump(inputs.failing_datacontract_contract, failing)
    _dump(inputs.soda_contract, soda_contract(floe, soda_dataset))
    _dump(inputs.failing_soda_contract, soda_contract(failing_floe, soda_dataset))
    return inputs


def contract(cached: CachedTable, *, sla_property: str, failing: bool = False) -> dict[str, Any]:
    """The ODCS contract for the orders table: schema, a freshness SLA, five quality rules."""
    namespace, _, _ = cached.identifier.rpartition(".")
    catalog = cached.catalog_config()
    on_column = {r.column: r for r in RULES if r.column is not None}
    properties = [
        odcs_property("id", "integer", "long", required=True, primary_key=True),
        odcs_property("email", "string", "string"),
        odcs_property("amount", "number", "double"),
        odcs_property("status", "string", "string"),
        odcs_property("updated_at", "timestamp", "timestamptz", required=True),
    ]
    for prop in properties:
        rule = on_column.get(prop["name"])
        if rule is not None:
            prop["quality"] = [rule.odcs(failing=failing)]
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "bench-orders",
        "name": "bench-orders",
        "version": "1.0.0",
        "status": "active",
        "servers": [
            {
                "server": "bench",
                "type": "iceberg",
                "catalog": catalog["name"],
                "catalogUrl": catalog["uri"],
                "warehouse": catalog["warehouse"],
                "namespace": namespace,
            }
        ],
        "schema": [
            {
                "name": "orders",
                "physicalName": cached.identifier,
                "physicalType": "table",
                "properties": properties,
                "quality": [r.odcs(failing=failing) for r in RULES if r.column is None],
            }
        ],
        "slaProperties": [
            {
                "property": sla_property,
                "value": FAILING_LATENCY[0] if failing else LATENCY_DAYS,
                "unit": FAILING_LATENCY[1] if failing else "d",
                "element": "orders.updated_at",
            }
        ],
    }


def _dump(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
