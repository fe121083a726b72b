"""OpenLineage run events of check runs, validated against the OpenLineage spec's JSON Schemas.

The spec's schemas (OpenLineage.json and the standard facets) live outside the repository,
in ``../shared/schemas/openlineage`` beside the checkout. Without them the schema tests skip,
unless ``FLOE_REQUIRE_CORPUS=1`` (as ``.ci/run`` sets), when they fail instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import DecimalType, ListType, LongType, NestedField, StringType, StructType
from referencing import Registry, Resource

from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    ViolationSeverity,
    ViolationType,
)
from floe_core.lineage import (
    CONTRACT_VIOLATION_SCHEMA_URL,
    FACET_SCHEMA_ID,
    PRODUCER,
    RUN_EVENT_SCHEMA_URL,
    contract_violation_facet,
    facet_schema,
    run_events,
)
from floe_core.lineage.events import SCHEMA_DATASET_SCHEMA_URL
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.testing.iceberg import catalog_config
from tests._factories import T0, check_result, table_object, violation
from tests._lake import Lake, lake_fixture
from tests._shared import shared_dir

SCHEMAS = shared_dir() / "schemas" / "openlineage"
CATALOG = "iceberg://sql/warehouse"
TABLE = "sales.orders"
S = ViolationSeverity
OPENLINEAGE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
SCHEMA_FACET_ID = SCHEMA_DATASET_SCHEMA_URL.split("#", 1)[0]

lake = lake_fixture(Lake)


# -- the schemas --------------------------------------------------------------------------


def _spec() -> dict[str, dict[str, Any]]:
    """The spec's schemas by ``$id``, floe's facet schema among them."""
    if not (SCHEMAS / "OpenLineage.json").is_file():
        problem = f"OpenLineage schemas not found at {SCHEMAS} (../shared/schemas/openlineage)"
        if os.environ.get("FLOE_REQUIRE_CORPUS") == "1":
            pytest.fail(f"FLOE_REQUIRE_CORPUS=1 but the {problem}")
        pytest.skip(problem)
    schemas = [json.loads(p.read_text()) for p in sorted(SCHEMAS.rglob("*.json"))]
    by_id = {s["$id"]: s for s in schemas}
    by_id[FACET_SCHEMA_ID] = facet_schema()
    return by_id


@pytest.fixture(scope="module")
def spec() -> dict[str, dict[str, Any]]:
    return _spec()


def _validator(spec: dict[str, dict[str, Any]], url: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at ``url`` (``$id#/json/pointer``), every ``$ref`` offline."""
    registry: Registry[Any] = Registry().with_resources(
        (id_, Resource.from_contents(schema)) for id_, schema in spec.items()
    )
    return jsonschema.Draft202012Validator(
        {"$ref": url}, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def validate(spec: dict[str, dict[str, Any]], document: dict[str, Any], url: str) -> None:
    errors = sorted(_validator(spec, url).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def validate_event(spec: dict[str, dict[str, Any]], event: dict[str, Any]) -> None:
    """The RunEvent against OpenLineage.json, and each facet against its own schema."""
    assert event["schemaURL"] == RUN_EVENT_SCHEMA_URL
    assert RUN_EVENT_SCHEMA_URL.startswith(OPENLINEAGE)
    validate(spec, event, OPENLINEAGE)
    validate(spec, event, RUN_EVENT_SCHEMA_URL)
    # The format checker needs extra packages for date-time and uri: checked here instead.
    uuid.UUID(event["run"]["runId"])
    assert event["eventTime"].endswith("Z")
    assert datetime.fromisoformat(event["eventTime"]).utcoffset() == timedelta(0)
    assert event["producer"] == PRODUCER
    facets = [*event["run"].get("facets", {}).values()]
    for dataset in event.get("inputs", []):
        facets += dataset.get("inputFacets", {}).values()
        facets += dataset.get("facets", {}).values()
    for facet in facets:
        assert facet["_producer"] == PRODUCER
        schema_id = facet["_schemaURL"].split("#", 1)[0]
        if schema_id not in spec and schema_id == SCHEMA_FACET_ID:
            check_schema_facet_without_its_schema(spec, facet)
            continue
        assert schema_id in spec, f"no schema for {facet['_schemaURL']}"
        validate(spec, facet, facet["_schemaURL"])


def check_schema_facet_without_its_schema(
    spec: dict[str, dict[str, Any]], facet: dict[str, Any]
) -> None:
    """The ``schema`` facet while ../shared/schemas/openlineage has no SchemaDatasetFacet.json.

    A stopgap until the shared schemas hold it: the facet must be a valid DatasetFacet of the
    spec, and build openlineage-python's model of SchemaDatasetFacet (generated from that
    facet's schema) with no field left over. Once the file is there, ``validate_event``
    checks the facet against it instead; a file of another version fails here.
    """
    from openlineage.client.generated.schema_dataset import (
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )

    other = [i for i in spec if i.endswith("/SchemaDatasetFacet.json")]
    assert not other, f"the shared schemas have {other}, floe writes {SCHEMA_FACET_ID}"
    validate(spec, facet, f"{OPENLINEAGE}#/$defs/DatasetFacet")

    def fields(items: list[dict[str, Any]]) -> list[SchemaDatasetFacetFields]:
        built = []
        for item in items:
            assert isinstance(item["name"], str)
            assert isinstance(item.get("type", ""), str)
            built.append(
                SchemaDatasetFacetFields(**{**item, "fields": fields(item.get("fields", []))})
            )
        return built

    assert set(facet) == {"_producer", "_schemaURL", "fields"}
    model = SchemaDatasetFacet(fields=fields(facet["fields"]))
    assert model._schemaURL == facet["_schemaURL"] == SCHEMA_DATASET_SCHEMA_URL


# -- building runs ------------------------------------------------------------------------


def events_of(
    result: CheckResult, found: list[ContractViolationEvent], **kwargs: Any
) -> list[dict[str, Any]]:
    kwargs.setdefault("tables", [TABLE])
    return run_events(result, found, dataset_namespace=CATALOG, **kwargs)


def failed(
    check_type: ViolationType, found: list[ContractViolationEvent], **details: Any
) -> CheckResult:
    return check_result(T0, CheckStatus.FAIL, check_type, found[0], details=details, duration=1.5)


def quality_rule(name: str, status: str, element: str | None, measured: float | None) -> dict:
    """A rule entry as the quality check writes it into ``details["rules"]``."""
    return {
        "rule": name,
        "table": TABLE,
        "path": "schema[0].quality[0]",
        "element": element,
        "type": "library",
        "metric": "nullValues",
        "severity": "error",
        "status": status,
        "measured": measured,
        "expected": "mustBe 0",
        "method": "scan",
    }


def quality_run() -> tuple[CheckResult, list[ContractViolationEvent]]:
    found = [
        violation(
            T0,
            S.ERROR,
            ViolationType.QUALITY,
            element="customer_id",
            message="sales.orders.customer_id: 3 null value(s), where quality rule "
            "'no_null_customers' (schema[0].quality[0]) says mustBe 0",
        ),
        violation(T0, S.WARNING, ViolationType.QUALITY, element="email"),
    ]
    rules = [
        quality_rule("no_null_customers", "fail", "customer_id", 3),
        quality_rule("few_null_emails", "fail", "email", 2.5),
        quality_rule("has_rows", "pass", None, 1200),
        quality_rule("business_rule", "skipped", None, None),
    ]
    details = {"plugin": "duckdb", "quality_score": 50.0, "rules": rules, "tables": []}
    return failed(ViolationType.QUALITY, found, **details), found


RUNS = {
    "freshness": lambda: (
        [violation(T0, S.ERROR, ViolationType.FRESHNESS)],
        {"tables": [{"table": TABLE, "age_seconds": 10800}]},
    ),
    "schema_drift": lambda: (
        [
            violation(T0, S.CRITICAL, ViolationType.SCHEMA_DRIFT, element="amount"),
            violation(T0, S.WARNING, ViolationType.SCHEMA_DRIFT, element="note"),
        ],
        {"tables": [{"table": TABLE, "schema_id": 1, "changes": 2}], "changes": 2},
    ),
    "availability": lambda: ([violation(T0, S.ERROR, ViolationType.AVAILABILITY)], {}),
    "deprecation": lambda: ([violation(T0, S.WARNING, ViolationType.DEPRECATION)], {}),
}


def run_of(check_type: str) -> tuple[CheckResult, list[ContractViolationEvent]]:
    if check_type == "quality":
        return quality_run()
    found, details = RUNS[check_type]()
    return failed(ViolationType(check_type), found, **details), found


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("check_type", [t.value for t in ViolationType])
def test_a_violation_is_a_start_and_a_fail_that_follow_the_spec(
    spec: dict[str, dict[str, Any]], check_type: str
) -> None:
    result, found = run_of(check_type)
    start, fail = events_of(result, found)
    for event in (start, fail):
        validate_event(spec, event)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"] == result.id
    job = {"namespace": "floe", "name": f"contract_check.orders.{check_type}"}
    assert start["job"] == fail["job"] == job
    assert start["eventTime"] == "2024-06-01T12:00:00.000Z"
    assert fail["eventTime"] == "2024-06-01T12:00:01.500Z"
    assert [(d["namespace"], d["name"]) for d in fail["inputs"]] == [(CATALOG, TABLE)]
    assert start["inputs"] == [{"namespace": CATALOG, "name": TABLE}]
    assert "facets" not in start["run"]
    assert set(fail["run"]["facets"]) == {"contractViolation"}


@pytest.mark.parametrize("check_type", [t.value for t in ViolationType])
def test_the_facet_is_the_most_severe_event_and_lists_them_all(
    spec: dict[str, dict[str, Any]], check_type: str
) -> None:
    result, found = run_of(check_type)
    facet = events_of(result, list(reversed(found)))[1]["run"]["facets"]["contractViolation"]
    validate(spec, {"contractViolation": facet}, FACET_SCHEMA_ID)
    assert facet["_schemaURL"] == CONTRACT_VIOLATION_SCHEMA_URL
    head = found[0]
    assert facet["contractName"] == head.contract_name == "orders"
    assert facet["contractVersion"] == head.contract_version
    assert facet["violationType"] == check_type
    assert facet["severity"] == head.severity.value
    assert facet["message"] == head.message
    assert facet["element"] == head.element
    assert facet["expectedValue"] == head.expected_value
    assert facet["actualValue"] == head.actual_value
    assert facet["timestamp"] == "2024-06-01T12:00:00.000Z"
    assert [v["severity"] for v in facet["violations"]] == [e.severity.value for e in found]
    assert facet["violations"][0] == {
        k: v for k, v in facet.items() if k not in {"_producer", "_schemaURL", "violations"}
    }


def test_quality_runs_carry_one_assertion_per_evaluated_rule(
    spec: dict[str, dict[str, Any]],
) -> None:
    result, found = quality_run()
    fail = events_of(result, found, tables=[TABLE, "sales.customers"])[1]
    orders, customers = fail["inputs"]
    assert "inputFacets" not in customers  # no rule of the run is about it
    facet = orders["inputFacets"]["dataQualityAssertions"]
    validate(spec, {"dataQualityAssertions": facet}, facet["_schemaURL"].split("#")[0])
    assert facet["assertions"] == [
        {
            "assertion": "no_null_customers",
            "success": False,
            "column": "customer_id",
            "severity": "error",
            "expected": "mustBe 0",
            "actual": "3",
        },
        {
            "assertion": "few_null_emails",
            "success": False,
            "column": "email",
            "severity": "error",
            "expected": "mustBe 0",
            "actual": "2.5",
        },
        {
            "assertion": "has_rows",
            "success": True,
            "severity": "error",
            "expected": "mustBe 0",
            "actual": "1200",
        },
    ]


def drift_run(lake: Lake) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """A real schema-drift run on sales.orders, whose live schema has a struct the contract
    lacks a field of and a column it lacks altogether."""
    address = StructType(
        NestedField(4, "city", StringType(), required=False),
        NestedField(5, "zip", StringType(), required=False),
    )
    lake.table(
        TABLE,
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(2, "amount", DecimalType(10, 2), required=False),
            NestedField(3, "ship_to", address, required=False),
            NestedField(6, "tags", ListType(7, StringType()), required=False),
        ),
    )
    properties = [
        {"name": "id", "logicalType": "integer", "required": True},
        {"name": "amount", "logicalType": "number"},
        {"name": "ship_to", "logicalType": "object",
         "properties": [{"name": "city", "logicalType": "string"}]},
        {"name": "note", "logicalType": "string"},
    ]  # fmt: skip
    contract = lake.write_contract(lake.contract(table_object(TABLE, properties)))
    monitor = ContractMonitor(catalog=PluginSpec(type="sql", config=catalog_config(lake.warehouse)))
    registered = monitor.register(contract)
    report = asyncio.run(monitor.run(registered.contract_name, ["schema_drift"]))
    [result] = report.results
    assert result.status is CheckStatus.FAIL  # "note" is gone
    return result, report.violations


def test_schema_drift_runs_carry_the_live_schema(
    spec: dict[str, dict[str, Any]], lake: Lake
) -> None:
    result, found = drift_run(lake)
    start, fail = events_of(result, found, tables=[TABLE, "sales.customers"])
    for event in (start, fail):
        validate_event(spec, event)
    orders, customers = fail["inputs"]
    assert customers == {"namespace": CATALOG, "name": "sales.customers"}  # not in details
    assert start["inputs"][0] == {"namespace": CATALOG, "name": TABLE}
    assert set(orders) == {"namespace", "name", "facets"}
    assert orders["facets"] == {
        "schema": {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json"
            "#/$defs/SchemaDatasetFacet",
            "fields": [
                {"name": "id", "type": "long"},
                {"name": "amount", "type": "decimal(10, 2)"},
                {
                    "name": "ship_to",
                    "type": "struct",
                    "fields": [
                        {"name": "city", "type": "string"},
                        {"name": "zip", "type": "string"},
                    ],
                },
                {"name": "tags", "type": "list<string>"},
            ],
        }
    }
    assert set(fail["run"]["facets"]) == {"contractViolation"}
    elements = {v["element"] for v in fail["run"]["facets"]["contractViolation"]["violations"]}
    assert elements == {"note", "ship_to.zip", "tags"}


def test_schema_drift_results_without_columns_carry_no_schema_facet(
    spec: dict[str, dict[str, Any]],
) -> None:
    # Details persisted before the check listed the live columns: no facet to give.
    result, found = run_of("schema_drift")
    fail = events_of(result, found)[1]
    validate_event(spec, fail)
    assert fail["inputs"] == [{"namespace": CATALOG, "name": TABLE}]


def test_a_pass_emits_nothing_by_default(spec: dict[str, dict[str, Any]]) -> None:
    result = check_result(T0, CheckStatus.PASS, ViolationType.FRESHNESS, duration=0.25)
    assert events_of(result, []) == []
    start, complete = events_of(result, [], emit_on_pass=True, namespace="prod")
    for event in (start, complete):
        validate_event(spec, event)
        assert event["job"] == {"namespace": "prod", "name": "contract_check.orders.freshness"}
        assert "facets" not in event["run"]
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert complete["eventTime"] == "2024-06-01T12:00:00.250Z"


def test_a_skipped_run_emits_nothing_by_default() -> None:
    result = check_result(T0, CheckStatus.SKIPPED, ViolationType.QUALITY)
    assert events_of(result, []) == []


def test_a_pass_with_early_warnings_still_reports_them(spec: dict[str, dict[str, Any]]) -> None:
    warning = violation(T0, S.WARNING, ViolationType.SCHEMA_DRIFT, element="note")
    result = check_result(T0, CheckStatus.PASS, ViolationType.SCHEMA_DRIFT, warning)
    start, fail = events_of(result, [warning])
    validate_event(spec, fail)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert fail["run"]["facets"]["contractViolation"]["severity"] == "warning"


def test_an_error_run_fails_with_an_error_message(spec: dict[str, dict[str, Any]]) -> None:
    message = "table sales.orders is not in catalog warehouse: register it or fix physicalName"
    details = {"reason": "table_not_found", "message": message}
    result = check_result(T0, CheckStatus.ERROR, ViolationType.FRESHNESS, details=details)
    start, fail = events_of(result, [])
    for event in (start, fail):
        validate_event(spec, event)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert fail["run"]["facets"] == {
        "errorMessage": {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"
            "#/$defs/ErrorMessageRunFacet",
            "message": message,
            "programmingLanguage": "python",
        }
    }


def test_a_result_id_that_is_not_a_uuid_still_gives_one_stable_run_id() -> None:
    result, found = run_of("freshness")
    odd = result.model_copy(update={"id": "run-42"})
    first = events_of(odd, found)
    again = events_of(odd, found)
    run_ids = {e["run"]["runId"] for e in [*first, *again]}
    assert len(run_ids) == 1
    uuid.UUID(run_ids.pop())


def test_no_row_values_beyond_what_the_violations_carry() -> None:
    # Only a rule's name, column, severity, threshold and measured number leave the details.
    result, found = quality_run()
    secret = "alice@example.com"
    errored = {**quality_rule("custom", "error", "email", None), "message": f"bad {secret}"}
    rules = [*result.details["rules"], errored, {**errored, "status": "fail", "extra": secret}]
    result = result.model_copy(update={"details": {**result.details, "rules": rules}})
    text = json.dumps(events_of(result, found))
    assert secret not in text
    assert "quality_score" not in text


def test_the_facet_schema_ships_with_the_package_and_matches_the_model(
    spec: dict[str, dict[str, Any]],
) -> None:
    schema = facet_schema()
    assert schema["$id"] == FACET_SCHEMA_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    fields = schema["$defs"]["ContractViolation"]["properties"]
    assert fields["violationType"]["enum"] == [t.value for t in ViolationType]
    assert fields["severity"]["enum"] == [s.value for s in ViolationSeverity]
    run_facet = schema["$defs"]["ContractViolationRunFacet"]["allOf"][0]["$ref"]
    assert run_facet.split("#")[0] in spec  # the same spec version the shared schemas are


def test_the_facet_schema_refuses_extra_fields_in_violations(
    spec: dict[str, dict[str, Any]],
) -> None:
    facet = contract_violation_facet([violation(T0)])
    facet["violations"][0]["row"] = {"email": "someone@example.com"}
    errors = list(_validator(spec, FACET_SCHEMA_ID).iter_errors({"contractViolation": facet}))
    assert errors


def test_a_facet_needs_a_violation() -> None:
    with pytest.raises(ValueError, match="at least one violation"):
        contract_violation_facet([])
