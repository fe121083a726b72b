"""End to end: a separately installed distribution's catalog plugin is found through its
``floe.catalogs`` entry point, loaded only when asked for, and used by ``floe sla check``.

The distribution (``floe-test-plugin``, next to this file) is installed with pip into a
temporary directory that only the subprocesses below see on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

DISTRIBUTION = Path(__file__).parent / "floe-test-plugin"

PROBE = textwrap.dedent(
    """
    import json, sys
    from importlib.metadata import entry_points

    from floe_core.plugins.registry import get_registry
    from floe_core.plugins.types import PluginType

    registry = get_registry()
    names = registry.names(PluginType.CATALOG)
    imported_early = "floe_test_plugin" in sys.modules
    cls = registry.get(PluginType.CATALOG, "test-memory")
    plugin = registry.create(PluginType.CATALOG, "test-memory", {"name": "scratch"})
    plugin.catalog().create_namespace("sales")
    [ep] = [ep for ep in entry_points(group="floe.catalogs") if ep.name == "test-memory"]
    print(json.dumps({
        "names": names,
        "imported_early": imported_early,
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "file": sys.modules[cls.__module__].__file__,
        "distribution": ep.dist.name,
        "plugin": [plugin.name, plugin.version, plugin.floe_api_version],
        "namespaces": plugin.list_namespaces(),
    }))
    """
)

CLI = "import sys; from floe_core.cli.main import cli; sys.exit(cli())"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """floe-test-plugin installed (no dependencies, no build isolation) into a private dir."""
    target = tmp_path_factory.mktemp("plugin-site")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet"]
    command += ["--target", str(target), str(DISTRIBUTION)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"pip failed (is hatchling installed?):\n{done.stderr}"
    return target


def run(plugin_site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}
    env.pop("FLOE_MANIFEST", None)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_installed_distribution_is_discovered_and_loaded_lazily(plugin_site: Path) -> None:
    done = run(plugin_site, "-c", PROBE)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert "test-memory" in found["names"]
    assert {"sql", "rest", "in-memory"} <= set(found["names"])  # built-ins alongside
    assert found["imported_early"] is False
    assert found["class"] == "floe_test_plugin:MemoryCatalogPlugin"
    assert Path(found["file"]).is_relative_to(plugin_site)
    assert found["distribution"] == "floe-test-plugin"
    assert found["plugin"] == ["test-memory", "0.1.0", "1.0"]
    assert found["namespaces"] == ["sales"]


def test_not_visible_without_the_distribution(plugin_site: Path) -> None:
    probe = (
        "from floe_core.plugins.registry import get_registry;"
        "from floe_core.plugins.types import PluginType;"
        "print(get_registry().names(PluginType.CATALOG))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test-memory" not in done.stdout
    assert "'sql'" in done.stdout


def write_inputs(tmp_path: Path, config: dict[str, str]) -> tuple[Path, Path]:
    """A manifest choosing the test-memory catalog, and a contract for sales.orders."""
    manifest = tmp_path / "manifest.yaml"
    catalog = {"type": "test-memory", "config": config}
    doc = {"apiVersion": "floe.dev/v1", "kind": "Manifest", "plugins": {"catalog": catalog}}
    manifest.write_text(yaml.safe_dump(doc))
    contract = tmp_path / "orders.yaml"
    orders = {
        "name": "orders",
        "physicalName": "sales.orders",
        "properties": [{"name": "order_id", "logicalType": "integer"}],
    }
    contract.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v3.1.0",
                "kind": "DataContract",
                "id": "orders-v1",
                "version": "1.0.0",
                "schema": [orders],
            }
        )
    )
    return manifest, contract


def test_cli_uses_the_installed_plugin(plugin_site: Path, tmp_path: Path) -> None:
    manifest, contract = write_inputs(tmp_path, {"name": "scratch"})
    args = ["sla", "check", str(contract), "--manifest", str(manifest), "--check", "schema_drift"]
    done = run(plugin_site, "-c", CLI, *args)
    # The plugin's catalog is empty: the table is missing from *its* catalog.
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Table 'sales.orders' does not exist in catalog 'scratch'" in done.stderr

    # Without the distribution on the path, the same manifest names an unknown plugin.
    plain = subprocess.run(
        [sys.executable, "-c", CLI, *args], capture_output=True, text=True, timeout=60
    )
    assert plain.returncode == 2
    assert "'test-memory' not found in entry-point group floe.catalogs" in plain.stderr


def test_cli_shows_no_traceback_when_a_plugin_crashes(plugin_site: Path, tmp_path: Path) -> None:
    crash = "lost http://user:s3cret@127.0.0.1:1/catalog"
    manifest, contract = write_inputs(tmp_path, {"name": "scratch", "crash_with": crash})
    done = run(plugin_site, "-c", CLI, "sla", "check", str(contract), "--manifest", str(manifest))
    assert done.returncode == 2, done.stdout + done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert "failed unexpectedly: RuntimeError" in error
    assert "s3cret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


ALERT_DISTRIBUTION = Path(__file__).parent / "floe-alert-testfile"


def test_a_pip_installed_alert_channel_is_used_by_floe_sla_check_alert(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, catalog: Any, warehouse: Path
) -> None:
    import pyarrow as pa

    from floe_core.testing.iceberg import catalog_config, create_table

    site = tmp_path_factory.mktemp("alert-site")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet"]
    command += ["--target", str(site), str(ALERT_DISTRIBUTION)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    schema = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    create_table(catalog, "sales.orders", schema).append(pa.table({"id": [1]}, schema=schema))
    contract = tmp_path / "orders.yaml"
    contract.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v3.1.0",
                "kind": "DataContract",
                "id": "orders",
                "name": "orders",
                "version": "1.0.0",
                "status": "active",
                "schema": [
                    {
                        "name": "orders",
                        "physicalName": "sales.orders",
                        "properties": [
                            {"name": "id", "logicalType": "integer", "required": True},
                            {"name": "gone", "logicalType": "string"},  # not in the table: drift
                        ],
                    }
                ],
            }
        )
    )
    sink = tmp_path / "alerts.jsonl"
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "floe.dev/v1",
                "kind": "Manifest",
                "plugins": {
                    "catalog": {"type": "sql", "config": catalog_config(warehouse)},
                    "alert_channels": [
                        {"name": "files", "type": "testfile", "config": {"path": str(sink)}}
                    ],
                },
                "data_contracts": {
                    "monitoring": {
                        "alerts": {
                            "routing_rules": [{"channel_name": "files", "min_severity": "error"}]
                        }
                    }
                },
            }
        )
    )
    args = ["sla", "check", str(contract), "--manifest", str(manifest), "--alert"]
    args += ["--check", "schema_drift", "--format", "json"]
    env_state = {"FLOE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(site), **env_state},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert json.loads(done.stdout)["alerts"][0]["status"] == "sent"
    [line] = sink.read_text().splitlines()
    [event] = json.loads(line)["events"]
    assert (event["contract_name"], event["element"]) == ("orders", "gone")

    # Without the distribution, the same manifest names a channel type to install.
    plain = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env_state},
    )
    assert plain.returncode == 2
    assert "pip install floe-alert-testfile" in plain.stderr
