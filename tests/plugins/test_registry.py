"""PluginRegistry: entry-point groups, built-ins, lazy loading, API versions, duplicates,
not-found messages, and explicit registration for tests.
"""

from __future__ import annotations

import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_core.errors import (
    DuplicatePluginError,
    IncompatiblePluginError,
    PluginError,
    PluginNotFoundError,
)
from floe_core.plugins.catalog import CatalogPlugin
from floe_core.plugins.metadata import FLOE_API_VERSION, PluginMetadata
from floe_core.plugins.registry import PluginRegistry, get_registry, is_compatible
from floe_core.plugins.types import PluginType

GROUPS = {
    PluginType.COMPUTE: "floe.computes",
    PluginType.CATALOG: "floe.catalogs",
    PluginType.ORCHESTRATOR: "floe.orchestrators",
    PluginType.SEMANTIC_LAYER: "floe.semantic_layers",
    PluginType.INGESTION: "floe.ingestion",
    PluginType.STORAGE: "floe.storage",
    PluginType.TELEMETRY_BACKEND: "floe.telemetry_backends",
    PluginType.LINEAGE_BACKEND: "floe.lineage_backends",
    PluginType.QUALITY: "floe.quality",
    PluginType.DBT: "floe.dbt",
    PluginType.RBAC: "floe.rbac",
    PluginType.IDENTITY: "floe.identity",
    PluginType.SECRETS: "floe.secrets",
    PluginType.ALERT_CHANNEL: "floe.alert_channels",
}
BUILT_IN_CATALOGS = {"sql", "rest", "glue", "hive", "dynamodb", "bigquery", "in-memory"}


def make_plugin(api: str = FLOE_API_VERSION, name: str = "test-catalog") -> type[CatalogPlugin]:
    """A catalog plugin class built for floe plugin API ``api``."""
    plugin_name, plugin_api = name, api  # in the class body, `name = name` would miss the argument

    class TestCatalog(CatalogPlugin):
        name = plugin_name
        version = "9.9.9"
        floe_api_version = plugin_api

        def connect(self) -> Any:
            from pyiceberg.catalog.memory import InMemoryCatalog

            return InMemoryCatalog(self.catalog_name)

    return TestCatalog


@pytest.fixture
def global_plugins() -> Iterator[Callable[[str, type[PluginMetadata]], None]]:
    """Register catalog plugins in the process-wide registry; unregistered afterwards."""
    registry = get_registry()
    added: list[str] = []

    def register(name: str, plugin: type[PluginMetadata]) -> None:
        registry.register(PluginType.CATALOG, name, plugin)
        added.append(name)

    yield register
    for name in added:
        registry.unregister(PluginType.CATALOG, name)


def test_plugin_types_and_groups() -> None:
    assert len(PluginType) == 14
    assert {t: t.entry_point_group for t in PluginType} == GROUPS
    assert len(set(GROUPS.values())) == 14
    assert PluginType.ALERT_CHANNEL.label == "Alert channel"


def test_built_in_catalogs_come_from_floe_core_entry_points() -> None:
    installed = {ep.name: ep for ep in entry_points(group="floe.catalogs")}
    assert set(installed) >= BUILT_IN_CATALOGS
    for name in BUILT_IN_CATALOGS:
        ep = installed[name]
        assert ep.dist is not None
        assert ep.dist.name == "floe-core"
        assert ep.value.startswith("floe_core.plugins.pyiceberg_catalogs:")

    registry = PluginRegistry()
    assert set(registry.names(PluginType.CATALOG)) >= BUILT_IN_CATALOGS
    for name in BUILT_IN_CATALOGS:
        cls = registry.get(PluginType.CATALOG, name)
        assert issubclass(cls, CatalogPlugin)
        plugin = registry.create(PluginType.CATALOG, name, {"name": "x"})
        assert plugin.name == name
        assert plugin.floe_api_version == FLOE_API_VERSION
        assert plugin.get_config_schema() is not None


def test_names_does_not_import_and_get_loads_once(site: Any, plugin_source: Any) -> None:
    site.add_plugin(
        "floe-catalog-lazy", "floe.catalogs", "lazy", "floe_lazy_probe:Plugin", plugin_source()
    )
    registry = PluginRegistry(site.entry_points)

    assert registry.names(PluginType.CATALOG) == ["lazy"]
    assert "floe_lazy_probe" not in sys.modules

    cls = registry.get(PluginType.CATALOG, "lazy")
    assert cls.__module__ == "floe_lazy_probe"
    assert "floe_lazy_probe" in sys.modules
    del sys.modules["floe_lazy_probe"]
    assert registry.get(PluginType.CATALOG, "lazy") is cls  # cached, not imported again
    assert "floe_lazy_probe" not in sys.modules


def test_groups_are_separate(site: Any, plugin_source: Any) -> None:
    site.add_plugin(
        "floe-quality-x", "floe.quality", "x", "floe_group_probe:Plugin", plugin_source()
    )
    registry = PluginRegistry(site.entry_points)
    assert registry.names(PluginType.QUALITY) == ["x"]
    assert registry.names(PluginType.CATALOG) == []


def test_installed_entry_points_are_read_in_one_scan(
    site: Any, plugin_source: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import floe_core.plugins.registry as registry_module

    site.add_plugin(
        "floe-quality-scan", "floe.quality", "scan", "floe_scan_probe:Plugin", plugin_source()
    )
    scans: list[object] = []

    def counted() -> Any:
        scans.append(None)
        return entry_points()

    monkeypatch.setattr(registry_module, "entry_points", counted)
    registry = PluginRegistry()
    assert "scan" in registry.names(PluginType.QUALITY)
    assert set(registry.names(PluginType.CATALOG)) >= BUILT_IN_CATALOGS
    assert "duckdb" in registry.names(PluginType.COMPUTE)
    assert len(scans) == 1
    # The declaring distribution, read from its metadata only when a message needs it.
    with pytest.raises(IncompatiblePluginError, match="from floe-quality-scan points at"):
        registry.get(PluginType.QUALITY, "scan")


@pytest.mark.parametrize("api", ["2.0", "1.1", "0.9", "banana", ""])
def test_incompatible_api_version_is_rejected(api: str) -> None:
    registry = PluginRegistry(lambda group: [])
    registry.register(PluginType.CATALOG, "future", make_plugin(api))
    with pytest.raises(IncompatiblePluginError) as info:
        registry.create(PluginType.CATALOG, "future", {})
    message = str(info.value)
    assert f"Catalog plugin 'future' 9.9.9 was built for floe plugin API {api}," in message
    assert f"this floe-core speaks {FLOE_API_VERSION}" in message
    assert "Install a release of the plugin built for this API" in message


def test_compatible_api_versions() -> None:
    assert is_compatible("1.0", "1.0")
    assert is_compatible("1.0", "1.3")
    assert is_compatible("1.2.7", "1.3")
    assert not is_compatible("1.4", "1.3")
    assert not is_compatible("2.0", "1.3")
    assert not is_compatible("1", "1.0")
    registry = PluginRegistry(lambda group: [])
    registry.register(PluginType.CATALOG, "current", make_plugin(FLOE_API_VERSION))
    assert registry.create(PluginType.CATALOG, "current", {}).floe_api_version == "1.0"


def test_incompatible_plugin_through_the_cli(
    global_plugins: Callable[[str, type[PluginMetadata]], None],
    tmp_path: Path,
    write_contract: Callable[..., Path],
    floe: Callable[..., Any],
) -> None:
    global_plugins("test-future", make_plugin("2.0"))
    manifest = tmp_path / "manifest.yaml"
    doc = {"apiVersion": "floe.dev/v1", "kind": "Manifest"}
    manifest.write_text(yaml.safe_dump({**doc, "plugins": {"catalog": {"type": "test-future"}}}))
    contract = write_contract(
        {"apiVersion": "v3.1.0", "kind": "DataContract", "id": "c", "version": "1.0.0"}
    )
    result = floe("sla", "check", contract, "--manifest", manifest)
    assert result.exception is None
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert "'test-future' 9.9.9 was built for floe plugin API 2.0" in line


@pytest.mark.parametrize(
    ("name", "target", "source", "error", "fragments"),
    [
        pytest.param(
            "odd",
            "floe_not_a_plugin:make",
            "def make():\n    return None\n",
            IncompatiblePluginError,
            [
                "'odd' from floe-catalog-odd points at floe_not_a_plugin:make",
                "not a subclass of CatalogPlugin",
            ],
            id="not-a-plugin-class",
        ),
        pytest.param(
            "broken",
            "floe_broken_plugin:Plugin",
            "import floe_no_such_dependency\n",
            PluginNotFoundError,
            [
                "'broken' from floe-catalog-broken could not be imported",
                "No module named 'floe_no_such_dependency'",
                "Reinstall floe-catalog-broken",
            ],
            id="cannot-be-imported",
        ),
    ],
)
def test_entry_point_that_does_not_load_a_plugin(
    name: str,
    target: str,
    source: str,
    error: type[PluginError],
    fragments: list[str],
    site: Any,
) -> None:
    """Catalog plugin ``name`` of distribution floe-catalog-NAME points at ``target``, in a
    module of ``source``: getting it raises ``error`` saying each of ``fragments``."""
    site.add_plugin(f"floe-catalog-{name}", "floe.catalogs", name, target, source)
    with pytest.raises(error) as info:
        PluginRegistry(site.entry_points).get(PluginType.CATALOG, name)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_duplicate_names_from_two_distributions(site: Any, plugin_source: Any) -> None:
    for twin in ("alpha", "beta"):
        site.add_plugin(
            f"floe-catalog-{twin}",
            "floe.catalogs",
            "lake",
            f"floe_dup_{twin}:Plugin",
            plugin_source(),
        )
    registry = PluginRegistry(site.entry_points)
    assert registry.names(PluginType.CATALOG) == ["lake"]
    with pytest.raises(DuplicatePluginError) as info:
        registry.get(PluginType.CATALOG, "lake")
    message = str(info.value)
    assert "Catalog plugin 'lake' is registered more than once in floe.catalogs" in message
    assert "floe-catalog-alpha (floe_dup_alpha:Plugin)" in message
    assert "floe-catalog-beta (floe_dup_beta:Plugin)" in message
    assert "Uninstall all but one of them" in message
    assert "floe_dup_alpha" not in sys.modules  # refused before importing either


def test_one_distribution_seen_twice_is_not_a_duplicate(site: Any, plugin_source: Any) -> None:
    site.add_plugin(
        "floe-catalog-twice", "floe.catalogs", "twice", "floe_twice:Plugin", plugin_source()
    )
    registry = PluginRegistry(lambda group: site.entry_points(group) * 2)  # as editable + site
    assert registry.get(PluginType.CATALOG, "twice").__module__ == "floe_twice"


@pytest.mark.parametrize(
    ("plugin_type", "name", "group", "hint"),
    [
        (PluginType.ALERT_CHANNEL, "slak", "floe.alert_channels", "pip install floe-alert-slak"),
        (PluginType.CATALOG, "polaris", "floe.catalogs", "pip install floe-catalog-polaris"),
        (PluginType.QUALITY, "gx", "floe.quality", "pip install floe-quality-gx"),
        (PluginType.RBAC, "opa", "floe.rbac", "pip install floe-plugin-opa"),
    ],
)
def test_unknown_name_says_where_it_looked(
    plugin_type: PluginType, name: str, group: str, hint: str
) -> None:
    registry = PluginRegistry(lambda g: [])
    with pytest.raises(PluginNotFoundError) as info:
        registry.get(plugin_type, name)
    assert str(info.value) == (
        f"{plugin_type.label} plugin '{name}' not found in entry-point group {group}. "
        f"It is either misspelled or not installed: {hint}."
    )


def test_unknown_name_lists_installed_plugins() -> None:
    with pytest.raises(PluginNotFoundError) as info:
        PluginRegistry().get(PluginType.CATALOG, "sqlite")
    assert "not found in entry-point group floe.catalogs" in str(info.value)
    installed = str(info.value).split(" Installed: ")[1].rstrip(".").split(", ")
    assert installed == sorted(installed)
    assert set(installed) >= BUILT_IN_CATALOGS


def test_register_and_unregister() -> None:
    registry = PluginRegistry()
    plugin = make_plugin(name="test-explicit")
    registry.register(PluginType.CATALOG, "test-explicit", plugin)
    assert "test-explicit" in registry.names(PluginType.CATALOG)
    assert registry.get(PluginType.CATALOG, "test-explicit") is plugin
    assert registry.create(PluginType.CATALOG, "test-explicit", {"name": "x"}).catalog_name == "x"
    assert "test-explicit" not in PluginRegistry().names(PluginType.CATALOG)  # this registry only

    with pytest.raises(DuplicatePluginError, match="'test-explicit' is already registered"):
        registry.register(PluginType.CATALOG, "test-explicit", make_plugin())
    taken = r"'sql' is already registered in floe\.catalogs"
    with pytest.raises(DuplicatePluginError, match=taken):
        registry.register(PluginType.CATALOG, "sql", make_plugin())

    registry.unregister(PluginType.CATALOG, "test-explicit")
    registry.unregister(PluginType.CATALOG, "test-explicit")  # forgetting twice is harmless
    assert "test-explicit" not in registry.names(PluginType.CATALOG)
    with pytest.raises(PluginNotFoundError, match="misspelled or not installed"):
        registry.get(PluginType.CATALOG, "test-explicit")


def test_register_refuses_what_is_not_a_plugin_of_that_kind() -> None:
    registry = PluginRegistry(lambda group: [])

    class NotACatalog:
        pass

    with pytest.raises(IncompatiblePluginError, match="must be a subclass of CatalogPlugin"):
        registry.register(PluginType.CATALOG, "odd", NotACatalog)  # type: ignore[arg-type]
    assert registry.names(PluginType.CATALOG) == []


def test_get_registry_is_process_wide(
    global_plugins: Callable[[str, type[PluginMetadata]], None],
) -> None:
    assert get_registry() is get_registry()
    global_plugins("test-shared", make_plugin(name="test-shared"))
    assert "test-shared" in get_registry().names(PluginType.CATALOG)


def test_concurrent_first_loads_agree(site: Any, plugin_source: Any) -> None:
    # The module takes a while to import, so both threads load the entry point at once.
    slow_import = textwrap.dedent(plugin_source()) + "import time\ntime.sleep(0.3)\n"
    site.add_plugin(
        "floe-catalog-slow", "floe.catalogs", "slow", "floe_slow_plugin:Plugin", slow_import
    )
    registry = PluginRegistry(site.entry_points)
    registry.names(PluginType.CATALOG)
    start = threading.Barrier(4)
    loaded: list[type[PluginMetadata]] = []
    errors: list[BaseException] = []

    def load() -> None:
        start.wait()
        try:
            loaded.append(registry.get(PluginType.CATALOG, "slow"))
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len(loaded) == 4
    assert len(set(loaded)) == 1


def test_every_plugin_error_is_a_plugin_error() -> None:
    for error in (PluginNotFoundError, DuplicatePluginError, IncompatiblePluginError):
        assert issubclass(error, PluginError)


ALERT_CHANNEL_SOURCE = """
from floe_core import AlertChannelPlugin


class Channel(AlertChannelPlugin):
    name = "demo"
    version = "0.1"
    floe_api_version = "1.0"

    def validate_config(self):
        return [] if self.config.get("to") else ["config.to: Field required"]

    async def send_alert(self, event):
        self.config.setdefault("sent", []).append(event.contract_name)
        return True
"""


def test_a_third_party_alert_channel_is_found_without_changing_floe(site: Any) -> None:
    import asyncio

    from floe_core import AlertChannelPlugin
    from tests._factories import T0, violation

    site.add_plugin(
        "floe-alert-demo",
        "floe.alert_channels",
        "demo",
        "floe_alert_demo:Channel",
        ALERT_CHANNEL_SOURCE,
    )
    registry = PluginRegistry(site.entry_points)
    assert registry.names(PluginType.ALERT_CHANNEL) == ["demo"]
    channel_class = registry.get(PluginType.ALERT_CHANNEL, "demo")
    assert issubclass(channel_class, AlertChannelPlugin)
    channel = channel_class({"to": "oncall"})
    assert channel.validate_config() == []
    assert asyncio.run(channel.send_alerts([violation(T0), violation(T0)])) is True
    assert channel.config["sent"] == ["orders", "orders"]
    assert channel_class({}).validate_config() == ["config.to: Field required"]
