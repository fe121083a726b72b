"""Fixtures for the plugin tests: real distributions (dist-info folders) in a private site dir."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

import pytest


@dataclass
class Site:
    """A directory on ``sys.path`` holding distributions and modules written by a test."""

    path: Path
    modules: list[str] = field(default_factory=list)

    def add_module(self, name: str, source: str) -> None:
        """Write module ``name`` (importable once the test runs)."""
        (self.path / f"{name}.py").write_text(textwrap.dedent(source))
        self.modules.append(name)

    def add_distribution(self, name: str, entry_points: dict[str, dict[str, str]]) -> None:
        """Write ``name``'s dist-info with ``entry_points`` as {group: {name: "module:attr"}}."""
        info = self.path / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = []
        for group, eps in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{ep} = {target}" for ep, target in eps.items())
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")

    def add_plugin(
        self, distribution: str, group: str, name: str, target: str, source: str
    ) -> None:
        """Write ``target``'s module ("module:attr") from ``source``, and ``distribution``
        declaring it as entry point ``name`` in ``group``."""
        self.add_module(target.split(":")[0], source)
        self.add_distribution(distribution, {group: {name: target}})

    def entry_points(self, group: str) -> list[EntryPoint]:
        """The real ``EntryPoint`` objects (each with its ``dist``) in ``group``, here only."""
        return [
            ep
            for dist in distributions(path=[str(self.path)])
            for ep in dist.entry_points
            if ep.group == group
        ]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A private site directory on ``sys.path``; its modules are forgotten afterwards."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    made = Site(path)
    yield made
    for name in made.modules:
        sys.modules.pop(name, None)


@pytest.fixture
def plugin_source() -> Callable[..., str]:
    """Source of a module defining catalog plugin class ``cls`` with the given API version."""

    def source(cls: str = "Plugin", api: str = "1.0", name: str = "test-catalog") -> str:
        return f"""
            from floe_core.plugins.catalog import CatalogPlugin

            class {cls}(CatalogPlugin):
                name = "{name}"
                version = "1.0"
                floe_api_version = "{api}"

                def connect(self):
                    raise NotImplementedError
            """

    return source
