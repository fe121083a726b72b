"""Fixtures for the monitor's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.monitoring._process import floe_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a monitor process: a SQLite state database of the test's own,
    upgraded."""
    environment = {**os.environ, "FLOE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    assert floe_cli(environment, tmp_path, "sla", "db", "upgrade").returncode == 0
    return environment
