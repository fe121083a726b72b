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

# Each case writes a contract (YAML text, or changes to the valid contract's top-level keys)
# and lists what the message must say. Texts are literal so that line numbers are known.
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

Floe = Callable[..., Any]
Expect = Callable[..., str]


def latency_sla(**fields: Any) -> dict[str, Any]:
    """Changes giving the valid contract one latency SLA with these fields."""
    return {"slaProperties": [{"property": "latency", **fields}]}


def unsupported_api_version(version: Any, *fragments: str) -> Any:
    """A case: the valid contract with this apiVersion, refused as not supported."""
    message = f"apiVersion {version!r} is not supported"
    return pytest.param({"apiVersion": version}, [message, *fragments], id=f"apiVersion-{version}")


def bad_sla_value(case_id: str, problem: str, **fields: Any) -> Any:
    """A case: one latency SLA with these fields, refused at its value for ``problem``."""
    return pytest.param(latency_sla(**fields), ["slaProperties[0].value", problem], id=case_id)


BAD_CONTRACTS = [
    pytest.param(BAD_INDENT, ["malformed YAML", "line 6"], id="yaml-bad-indent"),
    pytest.param(
        'apiVersion: v3.1.0\nkind: "DataContract\n\n',
        ["malformed YAML", "end of stream", "quoted scalar, started on line 2"],
        id="yaml-unclosed-quote",
    ),
    pytest.param(TAB_INDENT, ["malformed YAML", "line 2"], id="yaml-tab"),
    pytest.param(
        "apiVersion: v3.1.0\nschema: [{name: orders\nkind: DataContract\n",
        ["malformed YAML", "at line 3", "started on line 2"],
        id="yaml-unclosed-flow",
    ),
    pytest.param(
        "customProperties: " + "[" * 1000 + "]" * 1000 + "\n",
        ["malformed YAML", "nested too deeply"],
        id="yaml-nested-too-deeply",
    ),
    pytest.param(
        "apiVersion: v3.1.0\n---\napiVersion: v3.1.0\n",
        ["malformed YAML", "line 2"],
        id="yaml-two-documents",
    ),
    pytest.param(
        "apiVersion: !!python/object:os.system {}\n",
        ["malformed YAML", "line 1"],
        id="yaml-python-tag",
    ),
    pytest.param("- orders\n- customers\n", ["found a list"], id="not-mapping-list"),
    pytest.param("just a string\n", ["found a str"], id="not-mapping-scalar"),
    pytest.param("", ["found an empty file"], id="empty-file"),
    pytest.param("# only a comment\n", ["found an empty file"], id="only-comment"),
    pytest.param(
        {"apiVersion": None},
        ["apiVersion is missing", "v3.0.x to v3.2.x"],
        id="apiVersion-missing",
    ),
    unsupported_api_version("v2.2.0", "v3.0.x to v3.2.x", "line "),
    unsupported_api_version("v3.3.0"),
    unsupported_api_version("v4.0.0"),
    unsupported_api_version("v3.1"),  # no patch number
    unsupported_api_version(3.1),  # a number, not a string
    pytest.param(
        {"kind": "Contract"},
        ["kind must be DataContract, found 'Contract'", "at kind (line "],
        id="kind-wrong",
    ),
    pytest.param({"kind": None}, ["kind is missing", "kind: DataContract"], id="kind-missing"),
    pytest.param({"id": None}, ["id is missing"], id="id-missing"),
    pytest.param({"id": "  "}, ["id is missing"], id="id-blank"),
    pytest.param({"version": None}, ["version is missing"], id="version-missing"),
    pytest.param(
        SCHEMA_ERROR,
        ["invalid ODCS contract", "schema[0].properties[1].required (line 13)", "'maybe'"],
        id="odcs-schema-error",
    ),
    pytest.param(
        {"schema": "orders"},
        ["schema (line ", "valid list", "'orders'"],
        id="odcs-schema-not-a-list",
    ),
    pytest.param(
        UNKNOWN_FIELD,
        ["unknown field 'slaProperty'", "(line 6)", "check the spelling"],
        id="unknown-top-level-field",
    ),
    pytest.param(
        UNKNOWN_UNIT,
        ["slaProperties[1].unit (line 11)", "unknown unit 'fortnights'", "PT6H"],
        id="unknown-sla-unit",
    ),
    pytest.param(
        latency_sla(value=6, unit="PT6H"),
        ["slaProperties[0].unit", "put it in value"],
        id="iso-duration-as-unit",
    ),
    bad_sla_value("sla-without-unit", "has no unit", value=6),
    bad_sla_value("sla-negative", "greater than zero", value=-2, unit="h"),
    bad_sla_value("sla-empty-iso", "not an ISO-8601 duration", value="P"),
    bad_sla_value("sla-infinite", "not a finite number", value=float("inf"), unit="h"),
    bad_sla_value("sla-too-large", "too large", value=10**30, unit="d"),
    bad_sla_value("sla-iso-too-large", "too large", value="P9999999999D"),
]


@pytest.fixture
def bad_contract(
    contract_file: Callable[..., Path], write_contract: Callable[..., Path]
) -> Callable[[str | dict[str, Any]], Path]:
    """Write a case of ``BAD_CONTRACTS``: its text as is, or the valid contract so changed."""

    def write(case: str | dict[str, Any]) -> Path:
        return write_contract(case) if isinstance(case, str) else contract_file(**case)

    return write


@pytest.mark.parametrize(("case", "fragments"), BAD_CONTRACTS)
def test_load_contract_names_file_and_problem(
    case: str | dict[str, Any], fragments: list[str], bad_contract: Callable[..., Path]
) -> None:
    path = bad_contract(case)
    with pytest.raises(ContractError) as info:
        load_contract(path)
    message = str(info.value)
    assert message.startswith(f"{path}"), message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(("case", "fragments"), BAD_CONTRACTS)
def test_cli_reports_bad_contract_once(
    case: str | dict[str, Any],
    fragments: list[str],
    bad_contract: Callable[..., Path],
    manifest: Path,
    floe: Floe,
    expect_input_error: Expect,
) -> None:
    path = bad_contract(case)
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
def test_supported_api_versions_load(api_version: str, contract_file: Callable[..., Path]) -> None:
    contract = load_contract(contract_file(apiVersion=api_version))
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
    contract_file: Callable[..., Path],
) -> None:
    sla = {"property": "latency", "value": value, "element": "orders.updated_at"}
    if unit is not None:
        sla["unit"] = unit
    contract = load_contract(contract_file(slaProperties=[sla]))
    [freshness] = freshness_slas(contract)
    assert freshness.threshold == expected
    assert (freshness.table, freshness.column) == ("orders", "updated_at")


def test_iso_duration_contract_checks_clean_end_to_end(
    orders_table: Any, manifest: Path, contract_file: Callable[..., Path], floe: Floe
) -> None:
    sla = {"property": "latency", "value": "PT6H", "element": "orders.updated_at"}
    path = contract_file(slaProperties=[sla])
    result = floe("sla", "check", path, "--manifest", manifest)
    assert result.exception is None
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "SLA 6h" in result.stdout


def test_non_numeric_sla_value_is_reported_at_value(contract_file: Callable[..., Path]) -> None:
    sla = {"property": "latency", "value": "soon", "unit": "h"}
    with pytest.raises(ContractError, match=r"slaProperties\[0\]\.value"):
        load_contract(contract_file(slaProperties=[sla]))
