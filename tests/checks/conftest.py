"""Fixtures for the check tests: a ``lake`` that builds real Iceberg tables and checks them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from floe_core.config import MonitoringConfig
from floe_core.events import CheckReport, CheckResult, CheckStatus, ViolationSeverity, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.checks.base import Check
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.testing.iceberg import catalog_config
from tests._factories import table_object
from tests._lake import Lake as BaseLake
from tests._lake import lake_fixture

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Lake(BaseLake):
    """The shared lake, with shortcuts to compact tables and run checks with a monitor."""

    def committed(self, identifier: str) -> datetime:
        """When the table's current snapshot was committed, as floe reads it."""
        return _EPOCH + timedelta(
            milliseconds=self.load(identifier).current_snapshot().timestamp_ms
        )

    def compact(self, identifier: str) -> None:
        """Rewrite every live data file into one, committed as a ``replace`` snapshot.

        That is what Spark's ``rewrite_data_files`` commits. pyiceberg has no compaction API and
        its summary code only knows append, overwrite and delete, so the summary is relabelled.
        """
        from pyiceberg.io.pyarrow import _dataframe_to_data_files
        from pyiceberg.table.snapshots import Operation, Summary
        from pyiceberg.table.update.snapshot import _OverwriteFiles

        class RewriteFiles(_OverwriteFiles):
            def _summary(self, snapshot_properties: Any = None) -> Summary:
                counted = super()._summary(snapshot_properties or {})
                return Summary(Operation.REPLACE, **counted.additional_properties)

        table = self.load(identifier)
        old_files = [task.file for task in table.scan().plan_files()]
        rows = table.scan().to_arrow()
        with (
            table.transaction() as tx,
            RewriteFiles(operation=Operation.OVERWRITE, transaction=tx, io=table.io) as rewrite,
        ):
            for data_file in old_files:
                rewrite.delete_data_file(data_file)
            for data_file in _dataframe_to_data_files(
                table_metadata=tx.table_metadata, df=rows, io=table.io
            ):
                rewrite.append_data_file(data_file)

    # Contracts ---------------------------------------------------------------------------

    @staticmethod
    def obj(
        name: str, table: str, properties: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A schema object ``name`` describing Iceberg table ``table`` (``namespace.table``)."""
        return table_object(table, properties, name=name)

    # Running checks -------------------------------------------------------------------------

    def monitor(
        self,
        *,
        now: datetime | None = None,
        config: MonitoringConfig | None = None,
        checks: Mapping[ViolationType, Check] | None = None,
    ) -> ContractMonitor:
        """A monitor reading this lake through the registered ``sql`` catalog plugin."""
        kwargs: dict[str, Any] = {}
        if now is not None:
            kwargs["clock"] = lambda: now
        return ContractMonitor(
            config,
            catalog=PluginSpec(type="sql", config=catalog_config(self.warehouse)),
            checks=checks,
            **kwargs,
        )

    def run(
        self,
        contract: dict[str, Any],
        *,
        now: datetime | None = None,
        config: MonitoringConfig | None = None,
        checks: Mapping[ViolationType, Check] | None = None,
        types: Iterable[ViolationType | str] | None = None,
    ) -> CheckReport:
        """Write ``contract`` to a YAML file, register it and run the checks ``types``."""
        monitor = self.monitor(now=now, config=config, checks=checks)
        registered = monitor.register(self.write_contract(contract))
        return asyncio.run(monitor.run(registered.contract_name, types))


lake = lake_fixture(Lake)


def assert_no_data(result: CheckResult, expected_value: str) -> dict[str, Any]:
    """``result`` failed freshness with a "no data" ERROR; the table's details."""
    assert result.status is CheckStatus.FAIL
    event = result.violation
    assert event is not None
    assert event.severity is ViolationSeverity.ERROR
    assert (event.actual_value, event.expected_value) == ("no data", expected_value)
    assert "no data" in event.message
    [table] = result.details["tables"]
    assert table["newest_data"] is None
    return dict(table)
