"""The platform manifest: where floe finds it, and what it says when the manifest is wrong.

Which manifest was used shows in the error for a missing table: it names the catalog, and
every manifest here points at its own empty catalog with its own name. The runs check
freshness only, which cannot run on a missing table (exit 2, one ``Error:`` line); with the
availability check as well, a missing table is a violation (tests/inputs/test_catalog_inputs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_core.errors import ManifestError
from floe_core.manifest import default_catalog, find_manifest, load_manifest
from floe_core.testing.iceberg import catalog_config, local_catalog

API = {"apiVersion": "floe.dev/v1", "kind": "Manifest"}


@pytest.fixture
def make_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write a manifest naming a fresh, empty local catalog called ``name``."""

    def make(path: Path, name: str) -> Path:
        local_catalog(tmp_path / f"lake-{name}", name)
        config = catalog_config(tmp_path / f"lake-{name}", name)
        doc = {**API, "plugins": {"catalog": {"type": "sql", "config": config}}}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc))
        return path

    return make


@pytest.fixture
def sla_check(contract_file: Callable[..., Path], floe: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``floe sla check`` on the valid orders contract, with these options."""
    contract = contract_file()
    return lambda *options: floe("sla", "check", contract, *options)


FRESHNESS_ONLY = ("--check", "freshness")


def used_catalog(result: Any) -> str:
    """The catalog a run read, from its 'does not exist in catalog' error."""
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Table 'sales.orders' does not exist in catalog '" in result.stderr, result.stderr
    return result.stderr.split("does not exist in catalog '")[1].split("'")[0]


@pytest.mark.parametrize(
    ("also_written", "winner"),
    [
        pytest.param(("env", "explicit"), "explicit", id="explicit-beats-env-and-cwd"),
        pytest.param(("env",), "env", id="env-beats-working-directory"),
        pytest.param((), "cwd", id="working-directory"),
    ],
)
def test_manifest_precedence(
    also_written: tuple[str, ...],
    winner: str,
    make_manifest: Callable[..., Path],
    no_manifest_env: Path,
    sla_check: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """./manifest.yaml and ``also_written`` each name a catalog of their own (cwd, env,
    explicit); floe finds ``winner``'s manifest and reads its catalog."""
    make_manifest(no_manifest_env / "manifest.yaml", "cwd")
    found = {"cwd": Path("manifest.yaml")}
    if "env" in also_written:
        found["env"] = make_manifest(tmp_path / "env.yaml", "env")
        monkeypatch.setenv("FLOE_MANIFEST", str(found["env"]))
    explicit = None
    if "explicit" in also_written:
        explicit = found["explicit"] = make_manifest(tmp_path / "explicit.yaml", "explicit")
    assert find_manifest(explicit) == found[winner]
    options = ("--manifest", explicit) if explicit is not None else ()
    assert used_catalog(sla_check(*options, *FRESHNESS_ONLY)) == winner


def test_find_manifest_order(tmp_path: Path, no_manifest_env: Path) -> None:
    env_file = tmp_path / "env.yaml"
    env_file.write_text("{}")
    assert find_manifest(env={}) is None
    (no_manifest_env / "manifest.yaml").write_text("{}")
    assert find_manifest(env={}) == Path("manifest.yaml")
    assert find_manifest(env={"FLOE_MANIFEST": str(env_file)}) == env_file
    assert find_manifest(tmp_path / "env.yaml", env={"FLOE_MANIFEST": "elsewhere"}) == env_file
    # An empty $FLOE_MANIFEST counts as unset.
    assert find_manifest(env={"FLOE_MANIFEST": ""}) == Path("manifest.yaml")


def test_embedded_default_is_sqlite_under_dot_floe(
    no_manifest_env: Path,
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    spec = default_catalog()
    assert spec.type == "sql"
    assert spec.config["uri"] == f"sqlite:///{no_manifest_env / '.floe' / 'catalog.db'}"
    assert spec.config["warehouse"] == (no_manifest_env / ".floe" / "warehouse").as_uri()

    # Nothing there yet: floe only reads catalogs, and says where it looked.
    stderr = expect_input_error(sla_check(*FRESHNESS_ONLY))
    assert str(no_manifest_env / ".floe" / "catalog.db") in stderr
    assert "does not exist" in stderr
    assert not (no_manifest_env / ".floe").exists()
    # All checks: a catalog file that is not there is a configuration error, not an outage;
    # nothing is checked, recorded or created.
    stderr = expect_input_error(sla_check("--format", "json"))
    assert "configuration error, not an outage" in stderr
    assert not (no_manifest_env / ".floe").exists()


def test_embedded_default_reads_the_catalog_under_dot_floe(
    no_manifest_env: Path,
    sla_check: Callable[..., Any],
) -> None:
    local_catalog(no_manifest_env / ".floe")  # what `make demo` or a pipeline would create
    assert used_catalog(sla_check(*FRESHNESS_ONLY)) == "floe"


BAD_MANIFESTS = [
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\nplugins:\n  catalog: [sql\n",
        ["malformed YAML", "line 5", "flow sequence, started on line 4"],
        id="malformed-yaml",
    ),
    pytest.param("- catalog\n", ["expected a mapping", "floe.dev/v1"], id="not-a-mapping"),
    pytest.param("", ["expected a mapping"], id="empty"),
    pytest.param(
        "apiVersion: floe.dev/v2\nkind: Manifest\n",
        ["apiVersion (line 1)", "'floe.dev/v1'", "found 'floe.dev/v2'"],
        id="wrong-apiVersion",
    ),
    pytest.param("kind: Manifest\n", ["apiVersion", "Field required"], id="no-apiVersion"),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: PlatformManifest\n",
        ["kind (line 2)", "'Manifest'", "found 'PlatformManifest'"],
        id="wrong-kind",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\nplugin:\n  catalog:\n    type: sql\n",
        ["unknown field 'plugin'", "(line 3)", "check the spelling"],
        id="typo-plugin",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\nplugins:\n  catalog:\n"
        "    type: sql\n    configs: {}\n",
        ["plugins.catalog.configs (line 6)", "unknown field 'configs'"],
        id="typo-nested",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\ndata_contracts:\n  monitoring:\n"
        "    check_timeout_seconds: soon\n",
        ["data_contracts.monitoring.check_timeout_seconds (line 5)", "found 'soon'"],
        id="bad-monitoring-value",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\ndata_contracts:\n  monitoring:\n"
        "    mode: bogus_mode\n",
        [
            "data_contracts.monitoring.mode (line 5)",
            "must be one of 'scheduled', 'continuous', 'on_demand'",
            "found 'bogus_mode'",
        ],
        id="unknown-mode",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\ndata_contracts:\n  monitoring:\n"
        "    alerts:\n      routing_rules:\n        - {channel_name: x, min_severity: loud}\n",
        [
            "routing_rules[0].min_severity (line 7)",
            "must be one of 'info', 'warning', 'error', 'critical'",
            "found 'loud'",
        ],
        id="unknown-severity",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\ndata_contracts:\n  monitoring:\n"
        "    check_intervals:\n      quality_minutes: 0\n",
        ["check_intervals.quality_minutes (line 6)", "must be greater than 0", "found 0"],
        id="zero-interval",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\ndata_contracts:\n  monitoring:\n"
        "    severity_thresholds:\n      info_pct: 95\n",
        ["severity_thresholds (line 5)", "info_pct (95) is above warning_pct (90)"],
        id="info-after-warning",
    ),
    pytest.param(
        "apiVersion: floe.dev/v1\nkind: Manifest\n" + "x: " + "[" * 1000 + "]" * 1000 + "\n",
        ["malformed YAML", "nested too deeply"],
        id="nested-too-deeply",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_MANIFESTS)
def test_bad_manifest(
    text: str,
    fragments: list[str],
    tmp_path: Path,
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    path = tmp_path / "bad-manifest.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(info.value).startswith(f"manifest {path}")
    for fragment in fragments:
        assert fragment in str(info.value)
    expect_input_error(sla_check("--manifest", path), str(path), *fragments)


@pytest.mark.parametrize(
    ("named_by", "text", "problem"),
    [
        pytest.param(
            "$FLOE_MANIFEST",
            "apiVersion: floe.dev/v1\nkind: Manifest\nplugin: {}\n",
            "unknown field 'plugin'",
            id="bad-manifest-from-env",
        ),
        pytest.param(
            "./manifest.yaml",
            "apiVersion: floe.dev/v1\nkind: Manifest\n:",
            "malformed YAML",
            id="bad-manifest-in-working-directory",
        ),
        pytest.param(
            "--manifest", None, "file not found (named by --manifest)", id="missing-option-file"
        ),
        pytest.param(
            "$FLOE_MANIFEST",
            None,
            "file not found (named by $FLOE_MANIFEST)",
            id="missing-env-file",
        ),
    ],
)
def test_manifest_problem_names_the_file(
    named_by: str,
    text: str | None,
    problem: str,
    tmp_path: Path,
    no_manifest_env: Path,
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The manifest named by ``named_by`` holds ``text`` (None: there is no such file)."""
    path = Path("manifest.yaml") if named_by == "./manifest.yaml" else tmp_path / "named.yaml"
    if text is not None:
        path.write_text(text)
    if named_by == "$FLOE_MANIFEST":
        monkeypatch.setenv("FLOE_MANIFEST", str(path))
    options = ("--manifest", path) if named_by == "--manifest" else ()
    expect_input_error(sla_check(*options), str(path), problem)


def test_unknown_catalog_plugin_type(
    tmp_path: Path,
    sla_check: Callable[..., Any],
    expect_input_error: Callable[..., str],
) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({**API, "plugins": {"catalog": {"type": "sqll"}}}))
    stderr = expect_input_error(sla_check("--manifest", path))
    assert "'sqll' not found in entry-point group floe.catalogs" in stderr
    assert "either misspelled or not installed" in stderr
    assert "Installed: " in stderr
    assert "sql" in stderr.split("Installed: ")[1]
