"""floe_core's imports run only downward, along the layers of the README's code map.

The code is read with ``ast``, not run, so every import counts: at module level, inside a
function, and under ``TYPE_CHECKING``. The layers come from the README's "Code map" table,
so the map people read is the rule the code is held to.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "packages" / "floe-core" / "src"
PACKAGE = "floe_core"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, and where."""

    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def code_map(readme: str) -> dict[str, int]:
    """The layer of each unit (``floe_core.cli``, ``floe_core.errors``...) in the code map."""
    section = readme.split("### Code map", 1)[1].split("\n#", 1)[0]
    layers: dict[str, int] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            name = match.group(2).removesuffix("/").removesuffix(".py")
            unit = PACKAGE if name == "__init__" else f"{PACKAGE}.{name}"
            assert unit not in layers, f"{unit} has two rows in the code map"
            layers[unit] = int(match.group(1))
    return layers


def modules(source: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted((source / PACKAGE).rglob("*.py")):
        parts = path.relative_to(source).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(source: Path) -> list[Import]:
    """Every import of a floe_core module by a floe_core module, resolved to the module."""
    known = modules(source)
    found = []
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                # ``from floe_core.iceberg import _avro`` imports the submodule itself.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            found += [
                Import(name, target, node.lineno)
                for target in dict.fromkeys(targets)
                if target == PACKAGE or target.startswith(f"{PACKAGE}.")
            ]
    return found


def unit_of(module: str, layers: dict[str, int]) -> str | None:
    """The code-map row a module belongs to: its longest dotted prefix with a row.

    The package's own ``__init__`` is a row of its own, not the catch-all of every module.
    """
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in layers:
            return ".".join(parts[:end])
    return PACKAGE if module == PACKAGE and PACKAGE in layers else None


def violations(found: list[Import], layers: dict[str, int]) -> list[str]:
    """What breaks the layer rule or reaches into another package's private modules."""
    problems = []
    for imp in found:
        mine, theirs = unit_of(imp.importer, layers), unit_of(imp.imported, layers)
        if mine is None or theirs is None:
            problems.append(f"{imp}: not in the code map")
        elif mine != theirs and layers[theirs] >= layers[mine]:
            problems.append(
                f"{imp}: layer {layers[mine]} may not import layer {layers[theirs]} ({theirs})"
            )
        owner, _, leaf = imp.imported.rpartition(".")
        private = leaf.startswith("_") and not leaf.startswith("__")
        if private and imp.importer != owner and not imp.importer.startswith(f"{owner}."):
            problems.append(f"{imp}: a private module of {owner}, used outside it")
    return problems


@pytest.fixture(scope="module")
def layers() -> dict[str, int]:
    return code_map((ROOT / "README.md").read_text())


def test_every_module_has_a_row_in_the_code_map(layers: dict[str, int]) -> None:
    missing = [name for name in modules(SOURCE) if unit_of(name, layers) is None]
    assert not missing, f"add these to the README's code map: {missing}"
    stale = [unit for unit in layers if not any(unit_of(m, {unit: 0}) for m in modules(SOURCE))]
    assert not stale, f"the code map names what does not exist: {stale}"


def test_imports_run_only_downward(layers: dict[str, int]) -> None:
    found = imports(SOURCE)
    assert len(found) > 200, "the import walk found too little to be trusted"
    assert violations(found, layers) == []


def test_an_upward_import_is_caught(tmp_path: Path, layers: dict[str, int]) -> None:
    """The rule fails on what it must fail on, in a copy of the tree with bad imports added."""
    package = tmp_path / PACKAGE
    for path in modules(SOURCE).values():
        target = tmp_path / path.relative_to(SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (package / "events.py").write_text(
        (package / "events.py").read_text()
        + "\n\ndef _late() -> None:\n    from floe_core.monitoring import monitor\n"
    )
    (package / "plugins" / "catalog.py").write_text(
        (package / "plugins" / "catalog.py").read_text()
        + "\nfrom floe_core.iceberg._manifests import LRU\nfrom floe_core.quality import rules\n"
    )
    (package / "contracts" / "model.py").write_text(
        (package / "contracts" / "model.py").read_text() + "\nfrom ..iceberg import Facts\n"
    )
    problems = violations(imports(tmp_path), layers)
    assert len(problems) == 4, problems
    assert any("floe_core.events" in p and "layer 0 may not import layer 7" in p for p in problems)
    assert any("private module of floe_core.iceberg" in p for p in problems)
    assert any("floe_core.quality.rules" in p and "layer 3" in p for p in problems)
    assert any("floe_core.contracts.model" in p and "(floe_core.iceberg)" in p for p in problems)
