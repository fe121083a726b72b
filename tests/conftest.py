"""Fixtures shared by the cross-package tests: real SQLite-backed Iceberg catalogs in tmp dirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from floe_core.cli.main import cli
from floe_core.testing.iceberg import catalog_config, local_catalog


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Directory holding the test catalog's SQLite file and warehouse."""
    return tmp_path / "lake"


@pytest.fixture
def catalog(warehouse: Path) -> Any:
    """A real pyiceberg SqlCatalog (SQLite) named 'floe' in a temp dir."""
    return local_catalog(warehouse)


@pytest.fixture
def manifest(tmp_path: Path, warehouse: Path, catalog: Any) -> Path:
    """A platform manifest pointing at ``catalog``."""
    path = tmp_path / "manifest.yaml"
    doc = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {"catalog": {"type": "sql", "config": catalog_config(warehouse)}},
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def write_contract(tmp_path: Path) -> Callable[..., Path]:
    """Write a contract (dict or YAML text) to a file and return its path."""
    counter = iter(range(1_000_000))

    def write(content: dict[str, Any] | str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"contract-{next(counter)}.yaml")
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text)
        return path

    return write


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


@pytest.fixture
def floe() -> Callable[..., CliResult]:
    """Run the ``floe`` command in-process; returns exit code, stdout and stderr apart."""

    def run(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, exception)

    return run
