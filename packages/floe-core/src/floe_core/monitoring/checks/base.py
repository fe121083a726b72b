"""What a check is, what it sees, and what it returns.

A check is synchronous (pyiceberg is) and pure with respect to its context: the monitor times
it, runs it under ``check_timeout_seconds`` and turns its findings into events. Whatever a
check needs from the state database the monitor reads beforehand and hands over in the
context (``probe_history``), so no check waits on the database.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from floe_core.config import MonitoringConfig
from floe_core.contracts.model import DataContract
from floe_core.contracts.tables import ContractTable
from floe_core.errors import FloeError
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.manifest import PluginsSection
from floe_core.telemetry import tracing

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from floe_core.iceberg import TableView
    from floe_core.plugins.catalog import CatalogPlugin
    from floe_core.plugins.registry import PluginRegistry


def inner_timeout(check_timeout: float) -> float:
    """A deadline a little inside the runner's, so that the check itself records running out."""
    return max(check_timeout - min(1.0, 0.1 * check_timeout), 0.0)


@dataclass(frozen=True)
class Finding:
    """One problem a check found; becomes a ``ContractViolationEvent``. Never holds row values."""

    severity: ViolationSeverity
    message: str
    element: str | None = None
    expected_value: str | None = None
    actual_value: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckOutcome:
    """What a check concluded: its status, details for the result, and its findings."""

    status: CheckStatus
    details: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @classmethod
    def skipped(cls, reason: str, **details: Any) -> CheckOutcome:
        """The check does not apply, because ``reason``."""
        return cls(CheckStatus.SKIPPED, {"reason": reason, **details})

    @classmethod
    def error(cls, reason: str, message: str, **details: Any) -> CheckOutcome:
        """The check could not run; ``reason`` is a short code, ``message`` says how to fix."""
        return cls(CheckStatus.ERROR, {"reason": reason, "message": message, **details})


class CheckContext:
    """What one run of checks against one contract sees; tables load once per run."""

    def __init__(
        self,
        contract: DataContract,
        tables: list[ContractTable],
        catalog: CatalogPlugin,
        config: MonitoringConfig,
        now: datetime,
        *,
        plugins: PluginsSection | None = None,
        registry: PluginRegistry | None = None,
        contract_key: str = "",
        probe_history: Sequence[tuple[datetime, bool]] = (),
    ) -> None:
        self.contract = contract
        self.tables = tables
        self.catalog = catalog
        self.config = config
        self.now = now
        self.plugins = plugins or PluginsSection()  # the manifest's plugin choices
        if registry is None:
            from floe_core.plugins.registry import get_registry

            registry = get_registry()
        self.registry = registry
        self.contract_key = contract_key  # the registered name, for checks that keep history
        #: Persisted availability probes of the 24 h before ``now`` (time, ok), oldest first;
        #: given only when a check asked for them (``Check.wants_probe_history``).
        self.probe_history = probe_history
        self._loaded: dict[str, TableView | FloeError] = {}
        self._lock = threading.Lock()

    def view(self, identifier: str) -> TableView:
        """The table ``identifier`` as floe's checks read it, loaded once per run (without
        all of pyiceberg where the catalog allows); ``FloeError`` if it cannot be."""
        with self._lock:
            if identifier not in self._loaded:
                try:
                    with tracing.step(tracing.CATALOG_LOAD, **{"floe.table": identifier}):
                        self._loaded[identifier] = self.catalog.load_view(identifier)
                except FloeError as exc:
                    self._loaded[identifier] = exc
            loaded = self._loaded[identifier]
        if isinstance(loaded, FloeError):
            raise loaded
        return loaded

    def load_table(self, identifier: str) -> Table:
        """The pyiceberg table ``identifier`` (its ``view``'s); ``FloeError`` if it cannot be."""
        return self.view(identifier).full()


class Check(ABC):
    """One kind of check; a single instance serves every run of the monitor."""

    check_type: ClassVar[ViolationType]
    #: Whether the check needs a reachable catalog; if not, it runs even when there is none.
    needs_catalog: ClassVar[bool] = True
    #: Whether the check reads the catalog at all; a run of only such checks that do not
    #: (deprecation reads just the contract) never connects, so a misconfigured catalog
    #: does not stop it.
    reads_catalog: ClassVar[bool] = True

    def applies(self, contract: DataContract, tables: Sequence[ContractTable]) -> bool:
        """Whether the contract has anything for this check: the long-running monitor does
        not schedule a check that could only say "skipped". A contract the check cannot read
        (a malformed SLA, say) applies, so that the check reports the problem."""
        return True

    def wants_probe_history(self, contract_key: str, now: datetime) -> bool:
        """Whether this run should read the persisted probes into ``ctx.probe_history``."""
        return False

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        """Run the check against ``ctx``; raise ``FloeError`` only for catalog problems."""
