"""Fixtures for the deprecation and consumer tests: contracts to vary, a fixed-clock monitor."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from floe_core.events import CheckReport, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.testing.iceberg import catalog_config
from tests._factories import ORDERS_PROPERTIES, odcs, table_object

# An ODCS v3 contract for table sales.orders; tests copy it and add a lifecycle.
BASE = odcs(table_object("sales.orders", ORDERS_PROPERTIES), version="1.2.0", id="orders-v1")


def _lifecycle_contract(
    *,
    status: str = "active",
    end_of_support: Any = None,
    end_of_life: Any = None,
    replaced_by: str | None = None,
    sla: Iterable[dict[str, Any]] = (),
    custom: Iterable[dict[str, Any]] = (),
    roles: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``BASE`` with the given status, lifecycle dates, successor, SLAs, custom properties."""
    doc = copy.deepcopy(BASE)
    doc["status"] = status
    slas = list(sla)
    if end_of_support is not None:
        slas.append({"property": "endOfSupport", "value": end_of_support})
    if end_of_life is not None:
        slas.append({"property": "endOfLife", "value": end_of_life})
    if slas:
        doc["slaProperties"] = slas
    customs = list(custom)
    if replaced_by is not None:
        customs.append({"property": "replacedBy", "value": replaced_by})
    if customs:
        doc["customProperties"] = customs
    if roles is not None:
        doc["roles"] = roles
    return doc


@pytest.fixture
def lifecycle_contract() -> Callable[..., dict[str, Any]]:
    """A contract builder: ``BASE`` plus the keyword arguments of ``_lifecycle_contract``."""
    return _lifecycle_contract


@pytest.fixture
def run_checks(
    warehouse: Path, catalog: Any, write_contract: Callable[..., Path]
) -> Callable[..., CheckReport]:
    """Write a contract (dict or YAML text), register it, run ``types`` with the clock at ``now``.

    The monitor reads the real SQLite catalog of the ``catalog`` fixture.
    """

    def run(
        contract: dict[str, Any] | str,
        now: datetime,
        types: Iterable[ViolationType | str] | None = ("deprecation",),
    ) -> CheckReport:
        monitor = ContractMonitor(
            catalog=PluginSpec(type="sql", config=catalog_config(warehouse)), clock=lambda: now
        )
        registered = monitor.register(write_contract(contract))
        return asyncio.run(monitor.run(registered.contract_name, types))

    return run
