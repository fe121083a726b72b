"""Fixtures of the pagerduty channel's tests."""

from __future__ import annotations

import pytest

from floe_core.testing.receiver import free_port


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return free_port()
