"""floe_core's public API: ``__all__`` is sorted and complete, and every name loads lazily.

After httpx's ``tests/test_exported_members.py``; floe_core imports its exports on first use
(``_EXPORTS``), so completeness is checked against that table and the ``TYPE_CHECKING``
imports that mirror it for type checkers.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types

import pytest

import floe_core

INCLUDED_PRIVATE_MEMBERS = ["__version__"]


def type_checking_imports() -> dict[str, str]:
    """{name: module} of the imports under ``if TYPE_CHECKING:`` in floe_core/__init__.py."""
    tree = ast.parse(inspect.getsource(floe_core))
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    ]
    found: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        assert node.module is not None
        for alias in node.names:
            found[alias.asname or alias.name] = node.module
    return found


def test_all_is_sorted() -> None:
    assert floe_core.__all__ == sorted(floe_core.__all__)
    assert len(set(floe_core.__all__)) == len(floe_core.__all__)


def test_all_imports_are_exported() -> None:
    exported = sorted([*floe_core._EXPORTS, *INCLUDED_PRIVATE_MEMBERS])
    assert floe_core.__all__ == exported
    # Whatever else the module holds now is a submodule or one of its own imports.
    public_now = {
        name
        for name, value in vars(floe_core).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public_now - set(floe_core.__all__) <= {"annotations", "TYPE_CHECKING", "Any"}


def test_type_checking_imports_mirror_lazy_exports() -> None:
    assert type_checking_imports() == floe_core._EXPORTS


@pytest.mark.parametrize("name", sorted(floe_core._EXPORTS))
def test_each_export_resolves_to_its_module_attribute(name: str) -> None:
    value = getattr(floe_core, name)
    assert value is getattr(importlib.import_module(floe_core._EXPORTS[name]), name)
    assert vars(floe_core)[name] is value  # cached after the first lookup


def test_dir_and_unknown_names() -> None:
    assert dir(floe_core) == sorted(floe_core.__all__)
    with pytest.raises(AttributeError, match="module 'floe_core' has no attribute 'Nope'"):
        _ = floe_core.Nope  # type: ignore[attr-defined]


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from floe_core import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(floe_core.__all__)


def test_importing_floe_core_is_lazy() -> None:
    probe = (
        "import sys, floe_core\n"
        "heavy = ['pyiceberg', 'pyarrow', 'pydantic', 'open_data_contract_standard', 'rich']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
