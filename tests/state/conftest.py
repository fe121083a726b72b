"""Fixtures for the state database tests; ``state_url`` itself comes from ``tests/_state_fixtures``.

Every backend-agnostic test takes ``state_url`` and so runs on SQLite and on a fresh
PostgreSQL database of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from floe_core.cli.main import cli


@pytest.fixture
def no_state_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty working directory, with no ``$FLOE_STATE_URL`` or ``$FLOE_MANIFEST``."""
    monkeypatch.delenv("FLOE_STATE_URL", raising=False)
    monkeypatch.delenv("FLOE_MANIFEST", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def state_manifest(tmp_path: Path) -> Callable[[str | None], Path]:
    """Write a platform manifest whose ``state.url`` is the given URL; return its path."""

    def write(url: str | None) -> Path:
        path = tmp_path / "manifest.yaml"
        doc: dict[str, object] = {"apiVersion": "floe.dev/v1", "kind": "Manifest"}
        if url is not None:
            doc["state"] = {"url": url}
        path.write_text(yaml.safe_dump(doc))
        return path

    return write


@dataclass
class DbCommand:
    """What one ``floe sla db ...`` run printed, and how it ended."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def floe_db(no_state_env: Path) -> Callable[..., DbCommand]:
    """Run ``floe [-v...] sla db ARGS`` in-process, with ``$FLOE_STATE_URL`` set or unset."""

    def run(*args: str | Path, state_url: str | None = None, verbose: int = 0) -> DbCommand:
        env = {"FLOE_STATE_URL": state_url}  # None unsets it
        argv = [*(["-" + "v" * verbose] if verbose else []), "sla", "db", *map(str, args)]
        result = CliRunner().invoke(cli, argv, env=env, catch_exceptions=True)
        exception = None if isinstance(result.exception, SystemExit) else result.exception
        return DbCommand(result.exit_code, result.stdout, result.stderr, exception)

    return run
