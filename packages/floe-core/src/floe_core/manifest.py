"""The platform manifest: which catalog to read, how to monitor contracts, where state lives.

Found through ``--manifest PATH``, else ``$FLOE_MANIFEST``, else ``./manifest.yaml``. With
none, floe uses its embedded defaults under ``./.floe/``: a SQLite-backed pyiceberg SQL
catalog, and a SQLite file for the monitoring state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

from floe_core._redact import is_secret_key
from floe_core._yaml import YamlSyntaxError, format_path, parse_yaml, read_text
from floe_core.config import MonitoringConfig
from floe_core.errors import ManifestError

MANIFEST_ENV = "FLOE_MANIFEST"
DEFAULT_MANIFEST = Path("manifest.yaml")
#: Where the embedded defaults keep their files, relative to the working directory.
DEFAULT_HOME = Path(".floe")
DEFAULT_CATALOG_NAME = "floe"


class PluginSpec(BaseModel):
    """One plugin choice: the registered ``type`` (plugin name) and its ``config``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    config: dict[str, Any] = {}


class AlertChannelSpec(BaseModel):
    """One configured alert channel: a ``name`` routing rules refer to, and its plugin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    type: str = Field(min_length=1)  # entry-point name in floe.alert_channels
    send_resolved: bool = False
    config: dict[str, Any] = {}


class LineageBackendConfig(BaseModel):
    """Where OpenLineage events go and how they are named (``plugins.lineage_backend``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # openlineage-python's transport config ({type: http, url: ..., auth: ...}); without it,
    # the client's own configuration (OPENLINEAGE_URL, openlineage.yml), else nothing is sent.
    # Secret-looking values (auth.apiKey, a password...) are held as SecretStr.
    transport: dict[str, Any] | None = None
    namespace: str = Field("floe", min_length=1)  # the jobs' namespace
    emit_on_pass: bool = False  # also send START/COMPLETE for runs without a violation

    @field_validator("transport")
    @classmethod
    def _hide_secrets(cls, transport: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if transport is None else _hidden(transport)

    def settings(self) -> dict[str, Any]:
        """The config as the lineage sender takes it, secrets as plain text."""
        transport = None if self.transport is None else _revealed(self.transport)
        return {**self.model_dump(exclude={"transport"}), "transport": transport}


def _hidden(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _hidden(value)
        if isinstance(value, Mapping)
        else SecretStr(value)
        if isinstance(value, str) and is_secret_key(str(key))
        else value
        for key, value in config.items()
    }


def _revealed(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _revealed(value)
        if isinstance(value, Mapping)
        else value.get_secret_value()
        if isinstance(value, SecretStr)
        else value
        for key, value in config.items()
    }


class LineageBackendSpec(BaseModel):
    """``plugins.lineage_backend``: OpenLineage events of the check runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["openlineage"]
    config: LineageBackendConfig = LineageBackendConfig()


class PluginsSection(BaseModel):
    """``plugins``: one entry per kind of plugin the platform chooses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    catalog: PluginSpec | None = None
    compute: PluginSpec | None = None  # default: the built-in duckdb compute plugin
    quality: PluginSpec | None = None  # default: the built-in duckdb quality plugin
    alert_channels: list[AlertChannelSpec] = []
    lineage_backend: LineageBackendSpec | None = None

    @field_validator("alert_channels")
    @classmethod
    def _unique_names(cls, channels: list[AlertChannelSpec]) -> list[AlertChannelSpec]:
        seen: set[str] = set()
        for channel in channels:
            if channel.name in seen:
                raise ValueError(f"two alert channels are named '{channel.name}'; rename one")
            seen.add(channel.name)
        return channels


class DataContractsSection(BaseModel):
    """``data_contracts``: how contracts are monitored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monitoring: MonitoringConfig = MonitoringConfig()


class StateSection(BaseModel):
    """``state``: the monitoring-state database (default: SQLite in ``./.floe/state.db``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None  # a SQLAlchemy URL; ``$FLOE_STATE_URL`` overrides it


class PlatformManifest(BaseModel):
    """A floe platform manifest (``apiVersion: floe.dev/v1``, ``kind: Manifest``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    apiVersion: Literal["floe.dev/v1"]
    kind: Literal["Manifest"]
    metadata: dict[str, Any] = {}
    plugins: PluginsSection = PluginsSection()
    data_contracts: DataContractsSection = DataContractsSection()
    state: StateSection = StateSection()
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this manifest was read from, if any."""
        return self._source


def default_catalog(home: Path | None = None) -> PluginSpec:
    """The embedded catalog: pyiceberg's SQL catalog on SQLite, warehouse beside it."""
    base = (home or DEFAULT_HOME).absolute()
    return PluginSpec(
        type="sql",
        config={
            "name": DEFAULT_CATALOG_NAME,
            "uri": f"sqlite:///{base / 'catalog.db'}",
            "warehouse": (base / "warehouse").as_uri(),
        },
    )


def find_manifest(
    explicit: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Path | None:
    """The manifest to use: ``explicit``, else ``$FLOE_MANIFEST``, else ``./manifest.yaml``."""
    env = os.environ if env is None else env
    if explicit is not None:
        return _must_exist(Path(explicit), "--manifest")
    if env.get(MANIFEST_ENV):
        return _must_exist(Path(env[MANIFEST_ENV]), f"${MANIFEST_ENV}")
    return DEFAULT_MANIFEST if DEFAULT_MANIFEST.is_file() else None


def _must_exist(path: Path, origin: str) -> Path:
    if not path.is_file():
        raise ManifestError(
            f"file not found (named by {origin}); check the path, or unset it to use "
            "./manifest.yaml or the embedded default catalog under ./.floe/",
            source=path,
        )
    return path


def load_manifest(path: str | Path) -> PlatformManifest:
    """Read and validate a manifest file; raise ``ManifestError`` saying where it is wrong."""
    file = Path(path)
    try:
        text = read_text(file)
    except FileNotFoundError:
        raise ManifestError("file not found; check the path", source=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot be read: {exc}", source=file) from None
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        where = f"line {exc.line}" if exc.line else ""
        raise ManifestError(f"malformed YAML: {exc.problem}", source=file, path=where) from None
    if not isinstance(doc.data, dict):
        raise ManifestError(
            "expected a mapping with apiVersion: floe.dev/v1 and kind: Manifest", source=file
        )
    try:
        manifest = PlatformManifest.model_validate(doc.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        line = doc.line_of(loc)
        where = format_path(loc) + (f" (line {line})" if line else "")
        if error["type"] == "extra_forbidden":
            what = f"unknown field '{loc[-1]}' (check the spelling)"
        elif error["type"] == "missing" or "config" in loc or loc[:1] == ["state"]:
            # plugin config and the state URL may hold secrets
            what = str(error["msg"])
        elif isinstance(error.get("input"), dict):  # a rule across fields names them itself
            what = _in_our_words(error)
        else:
            found = repr(error.get("input"))
            found = found if len(found) <= 60 else found[:57] + "..."
            what = f"{_in_our_words(error)} (found {found})"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ManifestError(what + suffix, source=file, path=where) from None
    manifest._source = file
    check_routing_rules(manifest)
    return manifest


def _in_our_words(error: Any) -> str:
    """A pydantic error message as floe says it: "must be one of 'a', 'b'", not "Input ..."."""
    if error["type"] in ("literal_error", "enum"):
        expected = str(error.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        return f"must be one of {expected}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be", 1)


def check_routing_rules(manifest: PlatformManifest) -> None:
    """Every alert routing rule names a channel of ``plugins.alert_channels``."""
    names = [channel.name for channel in manifest.plugins.alert_channels]
    rules = manifest.data_contracts.monitoring.alerts.routing_rules
    for index, rule in enumerate(rules):
        if rule.channel_name not in names:
            known = ", ".join(names) or "none"
            raise ManifestError(
                f"routing rule names alert channel '{rule.channel_name}', which is not "
                f"configured under plugins.alert_channels (configured: {known})",
                source=manifest.source,
                path=f"data_contracts.monitoring.alerts.routing_rules[{index}].channel_name",
            )
