"""floe's ODCS contract translated into a Soda Core 4 data contract, rule by rule.

The translation reads the very document ``_contracts.contract`` gives floe (with
``failing=True`` the one whose every threshold the data breaks) and maps what Soda can check:

- each property (name, ``physicalType``): a ``columns`` entry (name, ``data_type`` as DuckDB
  names the Iceberg type), and the properties as a whole: the dataset check ``schema``
  (every column present, of its type, no other column);
- ``required: true``: a ``missing`` column check (no null rows);
- ``nullValues`` with ``unit: percent``: ``missing`` with ``threshold.metric: percent``;
- ``duplicateValues``: ``duplicate`` (a count);
- ``invalidValues`` with ``arguments.validValues``: ``invalid`` with ``valid_values``;
- ``rowCount``: the dataset check ``row_count``;
- ``type: sql``, ``SELECT COUNT(*) FROM ${table} WHERE <condition>``: the dataset check
  ``failed_rows`` with ``expression: <condition>`` (Soda counts the rows it holds for);
- the ``latency`` (or ``freshness``) SLA on ``<table>.<column>``: the dataset check
  ``freshness`` on that column, ``threshold: {unit: <its unit>, must_be_less_than: <value>}``;
- ``mustBe``, ``mustBeLessThan`` ...: ``must_be``, ``must_be_less_than`` ...

Each check translated from a quality rule carries the rule's ``id`` as its ``name``, which is
how ``_outcomes.soda_outcomes`` finds it again in Soda's results. ``primaryKey`` is not
translated: the only primary key, ``id``, already has the ``id_no_duplicates`` rule (a
second ``duplicate`` check on it would only repeat that query). Soda checks no nullability
or identifier fields of the table's metadata (floe's schema drift does); its ``missing``
checks from ``required`` count null rows instead, as datacontract-cli's do.
"""

from __future__ import annotations

import re
from typing import Any

# Iceberg's type names (the contract's physicalType) as DuckDB names them in
# information_schema, which is where Soda's schema check reads a column's type.
DUCKDB_TYPES = {
    "boolean": "boolean",
    "int": "integer",
    "integer": "integer",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "string": "varchar",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
    "timestamptz": "timestamp with time zone",
    "binary": "blob",
    "uuid": "uuid",
}
_THRESHOLDS = {
    "mustBe": "must_be",
    "mustNotBe": "must_not_be",
    "mustBeGreaterThan": "must_be_greater_than",
    "mustBeGreaterOrEqualTo": "must_be_greater_than_or_equal",
    "mustBeLessThan": "must_be_less_than",
    "mustBeLessOrEqualTo": "must_be_less_than_or_equal",
}
_UNITS = {"m": "minute", "h": "hour", "d": "day"}
_COUNT_WHERE = re.compile(
    r"^\s*SELECT\s+COUNT\(\*\)\s+FROM\s+\$\{table\}\s+WHERE\s+(?P<condition>.+?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def soda_contract(odcs: dict[str, Any], dataset: str) -> dict[str, Any]:
    """The Soda contract for the first schema object of ``odcs``, on ``dataset``.

    ``dataset`` is Soda's qualified name, ``<data source>/<schema>/<table>`` for DuckDB.
    """
    (table,) = odcs["schema"]
    columns: list[dict[str, Any]] = []
    for prop in table["properties"]:
        column: dict[str, Any] = {"name": prop["name"]}
        physical = str(prop.get("physicalType", "")).lower()
        if physical in DUCKDB_TYPES:
            column["data_type"] = DUCKDB_TYPES[physical]
        checks = [_rule_check(rule) for rule in prop.get("quality") or []]
        if prop.get("required") and not any("missing" in c for c in checks):
            checks.insert(0, {"missing": {"name": f"required:{prop['name']}"}})
        if checks:
            column["checks"] = checks
        columns.append(column)
    checks = [{"schema": {"name": "schema"}}]
    checks += [_rule_check(rule) for rule in table.get("quality") or []]
    checks += [_freshness(sla, table["name"]) for sla in _freshness_slas(odcs)]
    return {"dataset": dataset, "columns": columns, "checks": checks}


def _rule_check(rule: dict[str, Any]) -> dict[str, Any]:
    """One ODCS quality rule as one Soda check, named by the rule's ``id``."""
    body: dict[str, Any] = {"name": rule["id"]}
    threshold = {soda: rule[odcs] for odcs, soda in _THRESHOLDS.items() if odcs in rule}
    if "mustBeBetween" in rule:
        low, high = rule["mustBeBetween"]
        threshold["must_be_between"] = {"greater_than_or_equal": low, "less_than_or_equal": high}
    if rule.get("type") == "sql":
        match = _COUNT_WHERE.match(rule["query"])
        if match is None:
            raise ValueError(f"no Soda equivalent for the SQL rule {rule['id']}: {rule['query']}")
        body["expression"] = match["condition"]
        body["threshold"] = threshold
        return {"failed_rows": body}
    metric = rule.get("metric")
    if rule.get("unit") == "percent":
        threshold = {"metric": "percent", **threshold}
    body["threshold"] = threshold
    if metric == "nullValues":
        return {"missing": body}
    if metric == "duplicateValues":
        return {"duplicate": body}
    if metric == "invalidValues":
        valid = (rule.get("arguments") or {}).get("validValues")
        if valid is None:
            raise ValueError(f"no Soda equivalent for {rule['id']}: no validValues")
        return {"invalid": {"name": rule["id"], "valid_values": list(valid), **body}}
    if metric == "rowCount":
        return {"row_count": body}
    raise ValueError(f"no Soda equivalent for the rule {rule['id']} (metric {metric!r})")


def _freshness_slas(odcs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        sla
        for sla in odcs.get("slaProperties") or []
        if sla.get("property") in ("latency", "freshness")
    ]


def _freshness(sla: dict[str, Any], table: str) -> dict[str, Any]:
    """``latency`` (or ``freshness``) on ``<table>.<column>`` as Soda's freshness check."""
    element = str(sla["element"])
    owner, _, column = element.rpartition(".")
    if owner and owner != table:
        raise ValueError(f"freshness SLA on {element}, not on the table {table}")
    unit = _UNITS.get(str(sla.get("unit", "d")).lower()[:1])
    if unit is None:
        raise ValueError(f"no Soda unit for the SLA unit {sla.get('unit')!r}")
    # Soda 4.28 reads the unit inside ``threshold`` (and silently ignores one beside it,
    # counting hours instead).
    threshold = {"unit": unit, "must_be_less_than": sla["value"]}
    return {"freshness": {"name": "freshness", "column": column, "threshold": threshold}}
