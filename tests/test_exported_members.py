"""The public surfaces: ``__all__`` is sorted and complete, and every name loads lazily.

After httpx's ``tests/test_exported_members.py``. ``floe_core`` and ``floe_core.iceberg``
import their exports on first use (``_EXPORTS``), so completeness is checked against that
table and the ``TYPE_CHECKING`` imports that mirror it for type checkers.
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
import floe_core.iceberg

INCLUDED_PRIVATE_MEMBERS = {"floe_core": ["__version__"], "floe_core.iceberg": []}
PACKAGES = [floe_core, floe_core.iceberg]
by_package = pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)


def type_checking_imports(package: types.ModuleType) -> dict[str, str]:
    """{name: module} of the imports under ``if TYPE_CHECKING:`` in the package's __init__."""
    tree = ast.parse(inspect.getsource(package))
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


@by_package
def test_all_is_sorted(package: types.ModuleType) -> None:
    assert package.__all__ == sorted(package.__all__)
    assert len(set(package.__all__)) == len(package.__all__)


@by_package
def test_all_imports_are_exported(package: types.ModuleType) -> None:
    exported = sorted([*package._EXPORTS, *INCLUDED_PRIVATE_MEMBERS[package.__name__]])
    assert package.__all__ == exported
    # Whatever else the module holds now is a submodule or one of its own imports.
    public_now = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public_now - set(package.__all__) <= {"annotations", "TYPE_CHECKING", "lazy_names"}


@by_package
def test_type_checking_imports_mirror_lazy_exports(package: types.ModuleType) -> None:
    assert type_checking_imports(package) == package._EXPORTS


@pytest.mark.parametrize(
    ("package", "name"), [(p, name) for p in PACKAGES for name in sorted(p._EXPORTS)]
)
def test_each_export_resolves_to_its_module_attribute(package: types.ModuleType, name: str) -> None:
    value = getattr(package, name)
    assert value is getattr(importlib.import_module(package._EXPORTS[name]), name)
    assert vars(package)[name] is value  # cached after the first lookup


@by_package
def test_dir_and_unknown_names(package: types.ModuleType) -> None:
    assert dir(package) == sorted(package.__all__)
    with pytest.raises(
        AttributeError, match=f"module '{package.__name__}' has no attribute 'Nope'"
    ):
        _ = package.Nope


@by_package
def test_star_import_gives_exactly_all(package: types.ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(package.__all__)


@by_package
def test_importing_the_package_is_lazy(package: types.ModuleType) -> None:
    probe = (
        f"import sys, {package.__name__}\n"
        "heavy = ['pyiceberg', 'pyarrow', 'pydantic', 'open_data_contract_standard', 'rich']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
