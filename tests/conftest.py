"""Fixtures shared by the cross-package tests: real SQLite-backed Iceberg catalogs in tmp dirs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from floe_core.cli.main import cli
from floe_core.testing.iceberg import catalog_config, local_catalog
from floe_core.testing.receiver import free_port

# state_url (SQLite and a fresh PostgreSQL database per test) and friends, for every folder.
pytest_plugins = ["tests._state_fixtures"]


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test (nor a subprocess it starts) writes ./.floe/state.db in the repository."""
    monkeypatch.setenv("FLOE_STATE_URL", f"sqlite:///{tmp_path / 'autouse-state.db'}")


REQUIRE_SPEEDUPS_ENV = "FLOE_REQUIRE_SPEEDUPS"


@pytest.fixture
def speedups() -> Any:
    """floe-speedups' C decoder; tests that need it are skipped without it, unless
    ``FLOE_REQUIRE_SPEEDUPS=1`` (as ``.ci/run`` sets), when they fail instead."""
    from floe_core import _speedups

    module = _speedups.accelerator()
    if module is None:
        message = "floe-speedups (the optional C decoder) is not installed: make install builds it"
        if os.environ.get(REQUIRE_SPEEDUPS_ENV):
            pytest.fail(message)
        pytest.skip(message)
    return module


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
def floe(tmp_path: Path) -> Callable[..., CliResult]:
    """Run the ``floe`` command in-process; returns exit code, stdout and stderr apart.

    Check results persist to a state database of the test's own ($FLOE_STATE_URL: a SQLite
    file in ``tmp_path``, upgraded before first use), never to ``./.floe/`` in the repo.
    """
    state_url = f"sqlite:///{tmp_path / 'floe-state.db'}"
    upgraded: list[str] = []

    def run(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
        env = {"FLOE_STATE_URL": state_url, **(env or {})}
        if env["FLOE_STATE_URL"] == state_url and not upgraded:
            import asyncio

            from floe_core.state.engine import upgrade

            upgraded.append(str(asyncio.run(upgrade(state_url)).after))
        runner = CliRunner()
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, exception)

    return run


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return free_port()
