"""Bad contracts: ``load_contract`` raises one ``ContractError`` that names the file, the field
and its line; ``floe sla check`` turns it into exit 2 and one ``Error:`` line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from floe_core.contracts.loader import load_contract
from floe_core.contracts.sla import freshness_slas
from floe_core.errors import ContractError, InputError

# Each case writes a contract (YAML text, or a dict made from the valid contract) and lists
# what the message must say. Texts are literal so that line numbers are known.
SCHEMA_ERROR = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
version: 1.0.0
schema:
  - name: orders
    physicalName: sales.orders
    properties:
      - name: order_id
        logicalType: integer
      - name: updated_at
        logicalType: timestamp
        required: maybe
"""

UNKNOWN_FIELD = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
version: 1.0.0
name: orders
slaProperty:
  - property: latency
    value: 6
    unit: h
"""

UNKNOWN_UNIT = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
version: 1.0.0
slaProperties:
  - property: retention
    value: 3
    unit: y
  - property: latency
    value: 2
    unit: fortnights
"""

BAD_INDENT = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
version: 1.0.0
name: orders
  description: indented under a scalar
"""

TAB_INDENT = "apiVersion: v3.1.0\n\tkind: DataContract\n"

Make = Callable[..., dict[str, Any]]
Floe = Callable[..., Any]
Expect = Callable[..., str]

BAD_CONTRACTS = [
    pytest.param(lambda doc: BAD_INDENT, ["malformed YAML", "line 6"], id="yaml-bad-indent"),
    pytest.param(
        lambda doc: 'apiVersion: v3.1.0\nkind: "DataContract\n\n',
        ["malformed YAML", "end of stream", "quoted scalar, started on line 2"],
        id="yaml-unclosed-quote",
    ),
    pytest.param(lambda doc: TAB_INDENT, ["malformed YAML", "line 2"], id="yaml-tab"),
    pytest.param(
        lambda doc: "apiVersion: v3.1.0\nschema: [{name: orders\nkind: DataContract\n",
        ["malformed YAML", "at line 3", "started on line 2"],
        id="yaml-unclosed-flow",
    ),
    pytest.param(
        lambda doc: "customProperties: " + "[" * 1000 + "]" * 1000 + "\n",
        ["malformed YAML", "nested too deeply"],
        id="yaml-nested-too-deeply",
    ),
    pytest.param(
        lambda doc: "apiVersion: v3.1.0\n---\napiVersion: v3.1.0\n",
        ["malformed YAML", "line 2"],
        id="yaml-two-documents",
    ),
    pytest.param(
        lambda doc: "apiVersion: !!python/object:os.system {}\n",
        ["malformed YAML", "line 1"],
        id="yaml-python-tag",
    ),
    pytest.param(lambda doc: "- orders\n- customers\n", ["found a list"], id="not-mapping-list"),
    pytest.param(lambda doc: "just a string\n", ["found a str"], id="not-mapping-scalar"),
    pytest.param(lambda doc: "", ["found an empty file"], id="empty-file"),
    pytest.param(lambda doc: "# only a comment\n", ["found an empty file"], id="only-comment"),
    pytest.param(
        lambda doc: doc(apiVersion=None),
        ["apiVersion is missing", "v3.0.x to v3.2.x"],
        id="apiVersion-missing",
    ),
    pytest.param(
        lambda doc: doc(apiVersion="v2.2.0"),
        ["apiVersion 'v2.2.0' is not supported", "v3.0.x to v3.2.x", "line "],
        id="apiVersion-v2",
    ),
    pytest.param(
        lambda doc: doc(apiVersion="v3.3.0"),
        ["apiVersion 'v3.3.0' is not supported"],
        id="apiVersion-v3.3",
    ),
    pytest.param(
        lambda doc: doc(apiVersion="v4.0.0"),
        ["apiVersion 'v4.0.0' is not supported"],
        id="apiVersion-v4",
    ),
    pytest.param(
        lambda doc: doc(apiVersion="v3.1"), ["apiVersion 'v3.1' is not supported"], id="no-patch"
    ),
    pytest.param(
        lambda doc: doc(apiVersion=3.1), ["apiVersion 3.1 is not supported"], id="apiVersion-float"
    ),
    pytest.param(
        lambda doc: doc(kind="Contract"),
        ["kind must be DataContract, found 'Contract'", "at kind (line "],
        id="kind-wrong",
    ),
    pytest.param(
        lambda doc: doc(kind=None), ["kind is missing", "kind: DataContract"], id="kind-missing"
    ),
    pytest.param(lambda doc: doc(id=None), ["id is missing"], id="id-missing"),
    pytest.param(lambda doc: doc(id="  "), ["id is missing"], id="id-blank"),
    pytest.param(lambda doc: doc(version=None), ["version is missing"], id="version-missing"),
    pytest.param(
        lambda doc: SCHEMA_ERROR,
        ["invalid ODCS contract", "schema[0].properties[1].required (line 13)", "'maybe'"],
        id="odcs-schema-error",
    ),
    pytest.param(
        lambda doc: doc(schema="orders"),
        ["schema (line ", "valid list", "'orders'"],
        id="odcs-schema-not-a-list",
    ),
    pytest.param(
        lambda doc: UNKNOWN_FIELD,
        ["unknown field 'slaProperty'", "(line 6)", "check the spelling"],
        id="unknown-top-level-field",
    ),
    pytest.param(
        lambda doc: UNKNOWN_UNIT,
        ["slaProperties[1].unit (line 11)", "unknown unit 'fortnights'", "PT6H"],
        id="unknown-sla-unit",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": 6, "unit": "PT6H"}]),
        ["slaProperties[0].unit", "put it in value"],
        id="iso-duration-as-unit",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": 6}]),
        ["slaProperties[0].value", "has no unit"],
        id="sla-without-unit",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": -2, "unit": "h"}]),
        ["slaProperties[0].value", "greater than zero"],
        id="sla-negative",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": "P"}]),
        ["slaProperties[0].value", "not an ISO-8601 duration"],
        id="sla-empty-iso",
    ),
    pytest.param(
        lambda doc: doc(
            slaProperties=[{"property": "latency", "value": float("inf"), "unit": "h"}]
        ),
        ["slaProperties[0].value", "not a finite number"],
        id="sla-infinite",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": 10**30, "unit": "d"}]),
        ["slaProperties[0].value", "too large"],
        id="sla-too-large",
    ),
    pytest.param(
        lambda doc: doc(slaProperties=[{"property": "latency", "value": "P9999999999D"}]),
        ["slaProperties[0].value", "too large"],
        id="sla-iso-too-large",
    ),
]


@pytest.mark.parametrize(("make", "fragments"), BAD_CONTRACTS)
def test_load_contract_names_file_and_problem(
    make: Callable[[Make], Any],
    fragments: list[str],
    contract_doc: Make,
    write_contract: Callable[..., Path],
) -> None:
    path = write_contract(make(contract_doc))
    with pytest.raises(ContractError) as info:
        load_contract(path)
    message = str(info.value)
    assert message.startswith(f"{path}"), message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(("make", "fragments"), BAD_CONTRACTS)
def test_cli_reports_bad_contract_once(
    make: Callable[[Make], Any],
    fragments: list[str],
    contract_doc: Make,
    write_contract: Callable[..., Path],
    manifest: Path,
    floe: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    path = write_contract(make(contract_doc))
    result = floe("sla", "check", path, "--manifest", manifest)
    expect_input_error(result, f"Error: {path}", *fragments)


def test_missing_file(
    tmp_path: Path, floe: Floe, manifest: Path, expect_input_error: Expect
) -> None:
    path = tmp_path / "no-such-contract.yaml"
    with pytest.raises(ContractError, match="file not found; check the path") as info:
        load_contract(path)
    assert str(info.value).startswith(str(path))
    expect_input_error(floe("sla", "check", path, "--manifest", manifest), str(path), "not found")


def test_directory(tmp_path: Path, floe: Floe, manifest: Path, expect_input_error: Expect) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    with pytest.raises(ContractError, match="is a directory; give the path of one contract"):
        load_contract(folder)
    expect_input_error(floe("sla", "check", folder, "--manifest", manifest), str(folder))


def test_not_utf8(tmp_path: Path, floe: Floe, manifest: Path, expect_input_error: Expect) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("apiVersion: v3.1.0\ndescription: café\n".encode("latin-1"))
    with pytest.raises(ContractError, match="is not UTF-8 text"):
        load_contract(path)
    expect_input_error(floe("sla", "check", path, "--manifest", manifest), str(path), "UTF-8")


@pytest.mark.parametrize("api_version", ["v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0"])
def test_supported_api_versions_load(
    api_version: str, contract_doc: Make, write_contract: Callable[..., Path]
) -> None:
    contract = load_contract(write_contract(contract_doc(apiVersion=api_version)))
    assert contract.apiVersion == api_version


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("PT6H", None, timedelta(hours=6)),
        ("PT90M", None, timedelta(minutes=90)),
        ("P1D", None, timedelta(days=1)),
        ("P1DT2H30M", None, timedelta(days=1, hours=2, minutes=30)),
        ("PT0.5H", None, timedelta(minutes=30)),
        ("p2w", None, timedelta(weeks=2)),
        (6, "h", timedelta(hours=6)),
        ("6", "hours", timedelta(hours=6)),
        (30, "min", timedelta(minutes=30)),
        (2, "days", timedelta(days=2)),
        (1.5, "d", timedelta(hours=36)),
    ],
)
def test_sla_durations_accepted(
    value: object,
    unit: str | None,
    expected: timedelta,
    contract_doc: Make,
    write_contract: Callable[..., Path],
) -> None:
    sla = {"property": "latency", "value": value, "element": "orders.updated_at"}
    if unit is not None:
        sla["unit"] = unit
    contract = load_contract(write_contract(contract_doc(slaProperties=[sla])))
    [freshness] = freshness_slas(contract)
    assert freshness.threshold == expected
    assert (freshness.table, freshness.column) == ("orders", "updated_at")


def test_iso_duration_contract_checks_clean_end_to_end(
    orders_table: Any,
    manifest: Path,
    contract_doc: Make,
    write_contract: Callable[..., Path],
    floe: Callable[..., Any],
) -> None:
    sla = {"property": "latency", "value": "PT6H", "element": "orders.updated_at"}
    path = write_contract(contract_doc(slaProperties=[sla]))
    result = floe("sla", "check", path, "--manifest", manifest)
    assert result.exception is None
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "SLA 6h" in result.stdout


def test_non_numeric_sla_value_is_reported_at_value(
    contract_doc: Make, write_contract: Callable[..., Path]
) -> None:
    sla = {"property": "latency", "value": "soon", "unit": "h"}
    with pytest.raises(ContractError, match=r"slaProperties\[0\]\.value"):
        load_contract(write_contract(contract_doc(slaProperties=[sla])))
