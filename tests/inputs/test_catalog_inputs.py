"""Catalog inputs: the contract's own iceberg server, unreachable catalogs, missing tables,
and credentials that must never reach the output.

An unreachable catalog or a missing table is an availability failure: exit 1 with one
availability violation, the other checks erroring with the reason. Run without the
availability check (``--check freshness``), floe could not check: exit 2. A catalog that
cannot work as configured (a missing SQLite file, a URI that does not parse, a missing
driver) is no outage: one ``Error:`` line, exit 2, and nothing recorded.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_core.testing.iceberg import catalog_config, local_catalog

API = {"apiVersion": "floe.dev/v1", "kind": "Manifest"}
SECRET = "s3cret"


def iceberg_server(catalog_url: str, **extra: str) -> dict[str, str]:
    return {"server": "lake", "type": "iceberg", "catalogUrl": catalog_url, **extra}


def sqlite_server(warehouse: Path) -> dict[str, str]:
    """An ODCS iceberg server entry reaching the ``catalog`` fixture, namespace ``sales``."""
    config = catalog_config(warehouse)
    return iceberg_server(
        config["uri"], catalog=config["name"], warehouse=config["warehouse"], namespace="sales"
    )


@pytest.fixture
def expect_unavailable(caplog: pytest.LogCaptureFixture) -> Callable[..., str]:
    """Assert exit 1 with one availability violation and the other checks erroring with
    ``reason``, no traceback; each fragment is in the violation and the errors. Returns the
    violation's message (from the JSON report, or the table's text)."""

    def check(result: Any, reason: str, *fragments: str) -> str:
        everything = result.stdout + result.stderr
        assert result.exception is None, f"unexpected exception: {result.exception!r}"
        assert "Traceback" not in everything
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        assert result.exit_code == 1, everything
        assert not [line for line in everything.splitlines() if line.startswith("Error")]
        assert result.stderr.strip() == ""
        if not result.stdout.lstrip().startswith("{"):
            # A table for people: the violation and the erroring checks, whatever the wrapping.
            text = " ".join(result.stdout.replace("│", " ").split())
            assert "FAIL: 1 violation(s) (1 error)" in text
            assert f"freshness ERROR {reason}:" in text
            # The shared cause is given once; the other checks point to it.
            pointer = "the cause given for freshness above"
            assert f"schema_drift ERROR {reason}: {pointer}" in text
            assert f"): {pointer}" in text  # in the availability violation
            assert "availability FAIL" in text
            return text
        report = json.loads(result.stdout)
        [violation] = report["violations"]
        assert violation["violation_type"] == "availability"
        assert violation["severity"] == "error"
        assert violation["metadata"]["reason"] == reason
        results = {r["check_type"]: r for r in report["results"]}
        assert results["availability"]["status"] == "fail"
        assert results["availability"]["details"]["probe"]["reason"] == reason
        for other in ("freshness", "schema_drift"):
            assert results[other]["status"] == "error", results[other]
            assert results[other]["details"]["reason"] == reason
        for fragment in fragments:
            assert fragment in violation["message"], f"{fragment!r} not in {violation['message']!r}"
            assert fragment in results["freshness"]["details"]["message"]
        return str(violation["message"])

    return check


def write_manifest(path: Path, catalog: dict[str, Any] | None = None) -> Path:
    doc: dict[str, Any] = {**API, "data_contracts": {"monitoring": {"check_timeout_seconds": 20}}}
    if catalog is not None:
        doc["plugins"] = {"catalog": catalog}
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def sla_check(floe: Callable[..., Any]) -> Callable[..., Any]:
    """``floe sla check CONTRACT --manifest MANIFEST ARGS``."""

    def run(contract: Path, manifest: Path, *args: str) -> Any:
        return floe("sla", "check", contract, "--manifest", manifest, *args)

    return run


@pytest.fixture
def server_contract(
    orders_table: Any,
    warehouse: Path,
    contract_doc: Callable[..., Any],
    write_contract: Callable[..., Path],
) -> Path:
    """The orders contract naming its table only as 'orders'; the server gives namespace and
    catalog (where ``orders_table`` is)."""
    doc = contract_doc(servers=[sqlite_server(warehouse)])
    doc["schema"][0]["physicalName"] = "orders"
    return write_contract(doc)


def test_contract_server_used_when_manifest_names_no_catalog(
    server_contract: Path, tmp_path: Path, sla_check: Callable[..., Any]
) -> None:
    result = sla_check(server_contract, write_manifest(tmp_path / "no-catalog.yaml"))
    assert result.exception is None
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "sales.orders: schema matches the contract" in result.stdout


def test_contract_server_used_without_any_manifest(
    server_contract: Path, no_manifest_env: Path, floe: Callable[..., Any]
) -> None:
    result = floe("sla", "check", server_contract, "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    statuses = {r["check_type"]: r["status"] for r in json.loads(result.stdout)["results"]}
    assert statuses["freshness"] == statuses["schema_drift"] == "pass"
    assert statuses["availability"] == "pass"
    assert not (no_manifest_env / ".floe").exists()  # the embedded default was not touched


def test_manifest_catalog_beats_contract_server(
    server_contract: Path,
    tmp_path: Path,
    sla_check: Callable[..., Any],
    expect_unavailable: Callable[..., str],
) -> None:
    local_catalog(tmp_path / "other-lake", "other")
    config = catalog_config(tmp_path / "other-lake", "other")
    manifest = write_manifest(tmp_path / "other.yaml", {"type": "sql", "config": config})
    result = sla_check(server_contract, manifest, "--format", "json")
    expect_unavailable(
        result, "table_not_found", "Table 'sales.orders' does not exist in catalog 'other'"
    )


@pytest.fixture
def catalog_in(
    tmp_path: Path, contract_file: Callable[..., Path]
) -> Callable[..., tuple[Path, Path]]:
    """Write the orders contract and a manifest with ``catalog`` in the manifest's plugins
    (``where="manifest"``), or as the contract's server with a manifest naming no catalog
    (``where="server"``); return (contract, manifest)."""

    def write(where: str, catalog: dict[str, Any]) -> tuple[Path, Path]:
        if where == "manifest":
            return contract_file(), write_manifest(tmp_path / "catalog.yaml", catalog)
        return contract_file(servers=[catalog]), write_manifest(tmp_path / "no-catalog.yaml")

    return write


@pytest.mark.parametrize("namespace_exists", [False, True], ids=["no-namespace", "no-table"])
def test_missing_table(
    namespace_exists: bool,
    catalog: Any,
    manifest: Path,
    contract_file: Callable[..., Path],
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
    expect_unavailable: Callable[..., str],
) -> None:
    if namespace_exists:
        catalog.create_namespace("sales")
    path = contract_file()
    missing = "Table 'sales.orders' does not exist in catalog 'floe'"
    for fmt in ("table", "json"):
        result = sla_check(path, manifest, "--format", fmt)
        assert missing in expect_unavailable(result, "table_not_found", missing)
    # Without the availability check, floe could not check anything: a usage error.
    for fmt in ("table", "json"):
        result = sla_check(path, manifest, "--format", fmt, "--check", "freshness")
        expect_input_error(result, missing)


def test_unresolvable_table(
    manifest: Path,
    contract_doc: Callable[..., Any],
    write_contract: Callable[..., Path],
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    doc = contract_doc()
    doc["schema"][0]["physicalName"] = "orders"  # no namespace, and no iceberg server
    result = sla_check(write_contract(doc), manifest)
    expect_input_error(result, "schema object 'orders' does not say which Iceberg table")


@pytest.mark.parametrize("where", ["server", "manifest"])
def test_unreachable_rest_catalog(
    where: str,
    closed_port: int,
    catalog_in: Callable[..., tuple[Path, Path]],
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
    expect_unavailable: Callable[..., str],
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    if where == "manifest":
        contract, manifest = catalog_in(
            where, {"type": "rest", "config": {"name": "prod", "uri": url}}
        )
    else:
        contract, manifest = catalog_in(where, iceberg_server(url, catalog="prod"))
    started = time.monotonic()
    result = sla_check(contract, manifest, "--format", "json")
    elapsed = time.monotonic() - started
    message = expect_unavailable(
        result, "catalog_unreachable", "Could not connect to rest catalog 'prod'"
    )
    assert str(closed_port) in message
    assert elapsed < 10, f"took {elapsed:.1f}s to give up on a closed port"

    result = sla_check(contract, manifest, "--check", "freshness")
    stderr = expect_input_error(result, "Could not connect to rest catalog 'prod'")
    assert str(closed_port) in stderr


def in_manifest(kind: str, **config: str) -> tuple[str, dict[str, Any]]:
    """A catalog of type ``kind`` in the manifest's plugins."""
    return "manifest", {"type": kind, "config": config}


def as_server(catalog_url: str) -> tuple[str, dict[str, str]]:
    """An iceberg server of the contract's, at ``catalog_url``."""
    return "server", iceberg_server(catalog_url)


# Each catalog puts SECRET where a credential goes; '{port}' is a port nothing listens on.
CREDENTIAL_CASES = {
    "manifest-sql-postgresql": in_manifest("sql", uri=f"postgresql://user:{SECRET}@127.0.0.1:1/db"),
    "manifest-sql-psycopg": in_manifest(
        "sql", uri=f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/db"
    ),
    "manifest-rest": in_manifest(
        "rest",
        uri=f"http://user:{SECRET}@127.0.0.1:{{port}}/api",
        credential=f"client:{SECRET}",
        token=f"{SECRET}-token",
    ),
    "manifest-rest-query-token": in_manifest(
        "rest", uri=f"http://127.0.0.1:{{port}}/api?token={SECRET}&x=1"
    ),
    "server-sql": as_server(f"postgresql://user:{SECRET}@127.0.0.1:1/db"),
    "server-rest-query-token": as_server(f"http://127.0.0.1:{{port}}/api?access_token={SECRET}"),
    "server-rest": as_server(f"http://user:{SECRET}@127.0.0.1:{{port}}/api"),
}


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize(
    ("where", "catalog"), list(CREDENTIAL_CASES.values()), ids=list(CREDENTIAL_CASES)
)
def test_credentials_never_reach_output(
    where: str,
    catalog: dict[str, Any],
    fmt: str,
    closed_port: int,
    catalog_in: Callable[..., tuple[Path, Path]],
    sla_check: Callable[..., Any],
    floe: Callable[..., Any],
    expect_input_error: Callable[..., str],
    expect_unavailable: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = json.loads(json.dumps(catalog).replace("{port}", str(closed_port)))
    contract, manifest = catalog_in(where, catalog)
    result = sla_check(contract, manifest, "--format", fmt)
    expect_unavailable(result, "catalog_unreachable")
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in caplog.text
    if fmt == "json":
        json.loads(result.stdout)
    # Every log record, the availability check's too, goes to stderr with -vv. Without the
    # probe persisted above, this run's failure starts an outage, which the check logs.
    verbose = floe(
        "-vv", "sla", "check", contract, "--manifest", manifest, "--format", fmt, "--no-persist"
    )
    assert verbose.exit_code == 1
    assert "is unavailable" in verbose.stderr
    assert SECRET not in verbose.stdout + verbose.stderr
    result = sla_check(contract, manifest, "--format", fmt, "--check", "freshness")
    expect_input_error(result)
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in caplog.text


@pytest.mark.skipif(
    importlib.util.find_spec("psycopg2") is not None, reason="needs psycopg2 to be missing"
)
def test_missing_database_driver_is_named(
    catalog_in: Callable[..., tuple[Path, Path]],
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    uri = f"postgresql+psycopg2://user:{SECRET}@127.0.0.1:1/db"
    contract, manifest = catalog_in("manifest", {"type": "sql", "config": {"uri": uri}})
    result = sla_check(contract, manifest, "--format", "json")
    stderr = expect_input_error(result, "sql catalog", "No module named 'psycopg2'")
    assert "configuration error" in stderr
    assert SECRET not in result.stdout + result.stderr


# Configuration errors are not outages ---------------------------------------------------

CONFIGURATION_ERRORS = {
    "sqlite-file-missing": (
        in_manifest("sql", uri=f"sqlite:///nowhere/catalog.db?password={SECRET}"),
        "nowhere/catalog.db of the sql catalog",
    ),
    "sql-uri-unparsable": (in_manifest("sql", uri="not a url"), "Could not parse SQLAlchemy URL"),
    "sql-unknown-dialect": (in_manifest("sql", uri="nosuchdb://h/db"), "nosuchdb"),
    "sql-no-uri": (in_manifest("sql"), "has no 'uri'"),
    "rest-uri-without-scheme": (in_manifest("rest", uri="catalog.example"), "No scheme"),
    "rest-uri-unknown-scheme": (in_manifest("rest", uri="ftp://catalog.example"), "ftp://"),
    "rest-no-uri": (in_manifest("rest"), "URI missing"),
    "server-sql-unparsable": (as_server("sqlite:/relative"), "Could not parse"),
    "unknown-catalog-type": (in_manifest("nosuchcatalog"), "'nosuchcatalog' not found"),
}


@pytest.mark.parametrize(
    ("case", "fragment"), list(CONFIGURATION_ERRORS.values()), ids=list(CONFIGURATION_ERRORS)
)
def test_configuration_errors_are_not_outages(
    case: tuple[str, dict[str, Any]],
    fragment: str,
    catalog_in: Callable[..., tuple[Path, Path]],
    sla_check: Callable[..., Any],
    floe: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    """One Error: line, exit 2, nothing recorded: repeated runs cannot poison the history."""
    contract, manifest = catalog_in(*case)
    for args in ((), ("--format", "json"), ("--check", "availability"), ("--alert",)):
        stderr = expect_input_error(sla_check(contract, manifest, *args), fragment)
        assert SECRET not in stderr
    history = floe("sla", "history", "orders", "--format", "json")
    assert history.exit_code == 0, history.stderr
    assert json.loads(history.stdout) == {
        "contract_name": "orders",
        "results": [],
        "violations": [],
    }
    status = floe("sla", "status", "orders", "--format", "json")
    assert json.loads(status.stdout) == {"statuses": []}


def test_a_misconfigured_run_leaves_the_healthy_contract_healthy(
    catalog: Any,
    orders_table: Any,
    manifest: Path,
    tmp_path: Path,
    contract_file: Callable[..., Path],
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    """The issue's story: two runs against a catalog file that is not there, then the right
    manifest: the contract is as healthy as before, with no availability breach to escalate."""
    contract = contract_file()
    wrong = write_manifest(
        tmp_path / "wrong.yaml",
        {"type": "sql", "config": {"uri": f"sqlite:///{tmp_path / 'typo.db'}"}},
    )
    for _ in range(2):
        expect_input_error(sla_check(contract, wrong), "does not exist")
    result = sla_check(contract, manifest, "--check", "availability", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    [availability] = json.loads(result.stdout)["results"]
    assert availability["status"] == "pass"
    assert availability["details"]["uptime_pct"] == 100


def test_the_library_raises_a_configuration_error(
    tmp_path: Path, contract_file: Callable[..., Path]
) -> None:
    """``ContractMonitor.run`` raises it too (an ``InputError``), before anything is checked."""
    import asyncio

    from floe_core import ContractMonitor
    from floe_core.errors import CatalogConfigError, InputError
    from floe_core.manifest import PluginSpec

    spec = PluginSpec(type="sql", config={"uri": f"sqlite:///{tmp_path / 'absent.db'}"})
    monitor = ContractMonitor(catalog=spec)
    monitor.register(contract_file())
    with pytest.raises(CatalogConfigError, match=r"absent\.db") as raised:
        asyncio.run(monitor.run("orders"))
    assert isinstance(raised.value, InputError)
