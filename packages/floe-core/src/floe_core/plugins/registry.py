"""Discover plugins through ``importlib.metadata`` entry points and load them lazily.

floe-core's own plugins register through the same entry-point groups as third-party ones, so
the registry has no special cases. Tests may ``register`` a class explicitly and
``unregister`` it afterwards instead of installing a distribution.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from typing import Any, Protocol, TypeVar

from floe_core.errors import DuplicatePluginError, IncompatiblePluginError, PluginNotFoundError
from floe_core.plugins.metadata import FLOE_API_VERSION, PluginMetadata
from floe_core.plugins.types import DISTRIBUTION_PREFIXES, PluginType

P = TypeVar("P", bound=PluginMetadata)

# The base class a plugin of each kind must derive from, imported only when needed.
_BASE_CLASSES: dict[PluginType, str] = {
    PluginType.CATALOG: "floe_core.plugins.catalog:CatalogPlugin",
    PluginType.COMPUTE: "floe_core.plugins.compute:ComputePlugin",
    PluginType.QUALITY: "floe_core.plugins.quality:QualityPlugin",
    PluginType.ALERT_CHANNEL: "floe_core.plugins.alert_channel:AlertChannelPlugin",
}


class _Selectable(Protocol):
    """Every installed entry point, by group: what ``entry_points()`` returns on any Python."""

    def select(self, *, group: str) -> EntryPoints: ...


@dataclass(frozen=True)
class _Candidate:
    name: str
    value: str
    entry_point: EntryPoint

    @property
    def distribution(self) -> str:
        """The distribution that declares the entry point (read from its metadata on demand)."""
        dist = self.entry_point.dist
        return dist.name if dist is not None else "<unknown distribution>"


def _base_class(plugin_type: PluginType) -> type[PluginMetadata]:
    target = _BASE_CLASSES.get(plugin_type)
    if target is None:
        return PluginMetadata
    module_name, _, attr = target.partition(":")
    base: type[PluginMetadata] = getattr(importlib.import_module(module_name), attr)
    return base


def is_compatible(plugin_api_version: str, core_api_version: str = FLOE_API_VERSION) -> bool:
    """Whether a plugin built for ``plugin_api_version`` works with this floe-core."""
    try:
        p_major, p_minor = (int(x) for x in plugin_api_version.split(".")[:2])
        c_major, c_minor = (int(x) for x in core_api_version.split(".")[:2])
    except ValueError:
        return False
    return p_major == c_major and p_minor <= c_minor


class PluginRegistry:
    """Finds, loads and instantiates plugins of every ``PluginType``."""

    def __init__(self, entry_points_fn: Callable[[str], Iterable[EntryPoint]] | None = None):
        self._entry_points_fn = entry_points_fn or self._installed
        self._installed_entry_points: _Selectable | None = None
        self._discovered: dict[PluginType, dict[str, list[_Candidate]]] = {}
        self._explicit: dict[PluginType, dict[str, type[PluginMetadata]]] = {}
        self._loaded: dict[tuple[PluginType, str], type[PluginMetadata]] = {}
        self._lock = threading.Lock()

    def _candidates(self, plugin_type: PluginType) -> dict[str, list[_Candidate]]:
        with self._lock:
            if plugin_type not in self._discovered:
                found: dict[str, list[_Candidate]] = {}
                for ep in self._entry_points_fn(plugin_type.entry_point_group):
                    same = found.setdefault(ep.name, [])
                    # One distribution seen twice on sys.path (an editable install) is not a clash.
                    if not any(c.value == ep.value for c in same):
                        same.append(_Candidate(ep.name, ep.value, entry_point=ep))
                self._discovered[plugin_type] = found
            return self._discovered[plugin_type]

    def _installed(self, group: str) -> EntryPoints:
        """The installed entry points of ``group``; one scan reads every group, on first use."""
        if self._installed_entry_points is None:
            self._installed_entry_points = entry_points()
        return self._installed_entry_points.select(group=group)

    def names(self, plugin_type: PluginType) -> list[str]:
        """Every plugin name available for ``plugin_type``, sorted, without loading any."""
        names = set(self._candidates(plugin_type)) | set(self._explicit.get(plugin_type, {}))
        return sorted(names)

    def register(self, plugin_type: PluginType, name: str, plugin: type[PluginMetadata]) -> None:
        """Make ``plugin`` available under ``name`` without an installed distribution."""
        base = _base_class(plugin_type)
        if not (isinstance(plugin, type) and issubclass(plugin, base)):
            raise IncompatiblePluginError(
                f"{plugin_type.label} plugin '{name}' must be a subclass of {base.__name__}, "
                f"not {plugin!r}."
            )
        taken = self._explicit.setdefault(plugin_type, {})
        if name in taken or name in self._candidates(plugin_type):
            raise DuplicatePluginError(
                f"{plugin_type.label} plugin '{name}' is already registered in "
                f"{plugin_type.entry_point_group}; unregister it first or pick another name."
            )
        taken[name] = plugin

    def unregister(self, plugin_type: PluginType, name: str) -> None:
        """Forget a plugin added with ``register``."""
        self._explicit.get(plugin_type, {}).pop(name, None)

    def get(self, plugin_type: PluginType, name: str) -> type[PluginMetadata]:
        """Load (once) and return the plugin class registered as ``name``."""
        explicit = self._explicit.get(plugin_type, {}).get(name)
        if explicit is not None:
            return explicit
        candidates = self._candidates(plugin_type).get(name)
        if not candidates:
            raise PluginNotFoundError(
                self._not_found_message(plugin_type, name, self.names(plugin_type))
            )
        if len(candidates) > 1:
            dists = ", ".join(sorted(f"{c.distribution} ({c.value})" for c in candidates))
            raise DuplicatePluginError(
                f"{plugin_type.label} plugin '{name}' is registered more than once in "
                f"{plugin_type.entry_point_group}: by {dists}. Uninstall all but one of them."
            )
        return self._load(plugin_type, candidates[0])

    def _load(self, plugin_type: PluginType, candidate: _Candidate) -> type[PluginMetadata]:
        cached = self._loaded.get((plugin_type, candidate.value))
        if cached is not None:
            return cached
        try:
            obj = candidate.entry_point.load()
        except Exception as exc:  # any import failure inside a third-party plugin
            raise PluginNotFoundError(
                f"{plugin_type.label} plugin '{candidate.name}' from {candidate.distribution} "
                f"could not be imported ({candidate.value}): {type(exc).__name__}: {exc}. "
                f"Reinstall {candidate.distribution} or check its dependencies."
            ) from exc
        base = _base_class(plugin_type)
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise IncompatiblePluginError(
                f"{plugin_type.label} plugin '{candidate.name}' from {candidate.distribution} "
                f"points at {candidate.value}, which is not a subclass of {base.__name__}. "
                "Its entry point must name the plugin class."
            )
        with self._lock:
            return self._loaded.setdefault((plugin_type, candidate.value), obj)

    def create(self, plugin_type: PluginType, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Instantiate plugin ``name`` and check that it speaks this floe-core's plugin API."""
        cls = self.get(plugin_type, name)
        plugin = cls(*args, **kwargs)
        if not is_compatible(plugin.floe_api_version):
            raise IncompatiblePluginError(
                f"{plugin_type.label} plugin '{name}' {plugin.version} was built for floe plugin "
                f"API {plugin.floe_api_version}, but this floe-core speaks {FLOE_API_VERSION}. "
                "Install a release of the plugin built for this API, or a matching floe-core."
            )
        return plugin

    @staticmethod
    def _not_found_message(plugin_type: PluginType, name: str, available: list[str]) -> str:
        prefix = DISTRIBUTION_PREFIXES.get(plugin_type, "floe-plugin-")
        known = f" Installed: {', '.join(available)}." if available else ""
        return (
            f"{plugin_type.label} plugin '{name}' not found in entry-point group "
            f"{plugin_type.entry_point_group}. It is either misspelled or not installed: "
            f"pip install {prefix}{name}.{known}"
        )


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide plugin registry."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = PluginRegistry()
        return _registry
