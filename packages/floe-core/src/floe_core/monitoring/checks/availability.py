"""Availability: does a contract's data answer? One probe per run, judged over a rolling 24 h.

A probe connects the catalog, loads the metadata of every table the contract names and asks
the compute engine to ``validate_connection()``, under its own deadline just inside
``check_timeout_seconds``: a probe that runs out of time is a failed probe (reason
``timeout``), recorded by the check itself. Uptime is the share of successful probes in the
window; severity follows the error budget consumed, ``(1 - uptime) / (1 - target)``: INFO
from ``info_pct``, WARNING from ``warning_pct``, ERROR once uptime is below the target. The
shares are exact fractions: at a 99% target, 1 failure in 100 probes consumes exactly 100%
of the budget and meets the SLA (WARNING); one more failure breaches it (ERROR, the check
fails). A catalog plugin connects once, so later probes' round trips are the table loads.

The window lives in memory but starts from the state database: when a contract's window is
empty (a new process, or nothing probed for 24 h) the monitor hands over the persisted probes
of the last 24 h (``ctx.probe_history``), replayed before the new probe; after that the
window grows with this process's probes alone, so none counts twice. Without a database, or
while it cannot be read, the window holds only this process's probes.

With no ``availability`` SLA the latest probe alone decides: a failed probe is an ERROR, as
an unreachable catalog or table breaks every promise of the contract. A schema object whose
table cannot be resolved is an error of the contract (reason ``table_unresolved``), as for
the other checks, and no probe is counted. So is a bad compute plugin choice
(``plugin_error``), and a plugin that crashes is the runner's ``internal_error``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from floe_core._percent import percent
from floe_core._yaml import format_path
from floe_core.contracts.model import contract_name
from floe_core.contracts.sla import AvailabilitySLA, SLAError, availability_slas
from floe_core.errors import PluginError
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.checks._availability_probe import Probe, run_probe
from floe_core.monitoring.checks._availability_window import (
    MAX_OUTCOMES,
    WINDOW,
    History,
    Window,
)
from floe_core.monitoring.checks.base import (
    Check,
    CheckContext,
    CheckOutcome,
    Finding,
    inner_timeout,
)
from floe_core.monitoring.severity import consumed_severity
from floe_core.plugins.compute import ComputePlugin
from floe_core.plugins.types import PluginType

log = logging.getLogger(__name__)

DEFAULT_COMPUTE = PluginSpec(type="duckdb")


class AvailabilityCheck(Check):
    """Probes catalog, tables and compute; keeps each contract's outcomes for 24 h."""

    check_type = ViolationType.AVAILABILITY
    needs_catalog = False  # an unreachable catalog is exactly what this check reports

    def __init__(self, *, max_outcomes: int = MAX_OUTCOMES) -> None:
        if max_outcomes < 1:
            raise ValueError(f"max_outcomes must be at least 1, not {max_outcomes}")
        self.max_outcomes = max_outcomes
        self._histories: dict[str, History] = {}
        self._computes: dict[str, ComputePlugin] = {}
        self._lock = threading.Lock()

    @property
    def tracked(self) -> list[str]:
        """The contracts whose probe outcomes are in the window, by registered name."""
        with self._lock:
            return sorted(self._histories)

    def wants_probe_history(self, contract_key: str, now: datetime) -> bool:
        """Whether ``contract_key``'s window is empty, to be seeded from the persisted probes."""
        with self._lock:
            history = self._histories.get(contract_key)
            return history is None or history.expired(now)

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        started = time.monotonic()
        unresolved = [t for t in ctx.tables if t.identifier is None]
        if unresolved:
            return CheckOutcome.error("table_unresolved", unresolved[0].problem or "")
        try:
            slas = availability_slas(ctx.contract)
            compute = self._compute(ctx)
        except SLAError as exc:
            return CheckOutcome.error("invalid_sla", f"{exc.path}: {exc}")
        except PluginError as exc:
            return CheckOutcome.error("plugin_error", str(exc))
        sla = max(slas, key=lambda s: s.target_pct, default=None)
        timeout = inner_timeout(ctx.config.check_timeout_seconds)
        probe = run_probe(ctx, compute, timeout - (time.monotonic() - started))
        window = self._record(ctx, probe)
        return _judge(ctx, sla, probe, window, timeout)

    def _compute(self, ctx: CheckContext) -> ComputePlugin:
        """The manifest's compute plugin (default: duckdb), made once and kept."""
        spec = ctx.plugins.compute or DEFAULT_COMPUTE
        key = json.dumps(spec.model_dump(), sort_keys=True, default=str)
        with self._lock:
            if key not in self._computes:
                schema = ctx.registry.get(PluginType.COMPUTE, spec.type).get_config_schema()
                if schema is not None:
                    try:
                        schema.model_validate(spec.config)
                    except ValidationError as exc:
                        error = exc.errors()[0]
                        where = format_path(["plugins", "compute", "config", *error["loc"]])
                        raise PluginError(
                            f"config of compute plugin '{spec.type}' is invalid at {where} "
                            f"in the manifest: {error['msg']}"
                        ) from None
                plugin = ctx.registry.create(PluginType.COMPUTE, spec.type, spec.config)
                if not isinstance(plugin, ComputePlugin):  # the registry checks; mypy cannot
                    raise PluginError(f"compute plugin '{spec.type}' is not a ComputePlugin")
                self._computes[key] = plugin
            return self._computes[key]

    def _record(self, ctx: CheckContext, probe: Probe) -> Window:
        """Add ``probe`` to the contract's window, a new one starting from the persisted probes.

        Contracts whose window has emptied are forgotten. A window already there ignores
        ``ctx.probe_history``: its probes since it started are in it, some of them persisted.
        """
        key, now = ctx.contract_key or contract_name(ctx.contract), ctx.now
        seeded = 0
        with self._lock:
            for stale in [k for k, h in self._histories.items() if h.expired(now)]:
                del self._histories[stale]
            history = self._histories.get(key)
            if history is None:
                history = self._histories[key] = History(self.max_outcomes)
                seeded = history.replay(ctx.probe_history)
            window = history.add(now, probe.ok)
        extra: dict[str, Any] = {
            "floe.contract.name": key,
            "floe.check.type": ViolationType.AVAILABILITY.value,
            "floe.availability.consecutive_failures": window.consecutive_failures,
        }
        if seeded:
            log.debug(
                "availability window of contract %s starts from %d persisted probe(s)",
                key,
                seeded,
                extra={**extra, "floe.availability.seeded_probes": seeded},
            )
        if not probe.ok and window.consecutive_failures == 1:
            log.info(
                "contract %s is unavailable (%s): %s",
                key,
                probe.reason,
                probe.message,
                extra={**extra, "floe.availability.reason": probe.reason},
            )
        elif window.recovered_after:
            down_since = window.down_since or now
            log.info(
                "contract %s is available again after %d failed probe(s) since %s",
                key,
                window.recovered_after,
                down_since.isoformat(),
                extra={
                    **extra,
                    "floe.availability.recovered_after": window.recovered_after,
                    "floe.availability.down_since": down_since.isoformat(),
                    "floe.availability.downtime_seconds": (now - down_since).total_seconds(),
                },
            )
        return window


def _judge(
    ctx: CheckContext, sla: AvailabilitySLA | None, probe: Probe, window: Window, timeout: float
) -> CheckOutcome:
    total, failures = window.probes, window.failures
    uptime = Fraction(total - failures, total)
    details: dict[str, Any] = {
        "probe": {**probe.summary(), "timeout_seconds": round(timeout, 3)},
        "uptime_pct": round(float(uptime * 100), 4),
        "target_pct": float(sla.target_pct) if sla else None,
        "budget_consumed_pct": None,
        "consecutive_failures": window.consecutive_failures,
        "probes_in_window": total,
        "failures_in_window": failures,
        "window_hours": WINDOW / timedelta(hours=1),
        "sla": sla.path if sla else None,
    }
    name = contract_name(ctx.contract)
    meta = {
        "reason": probe.reason or "",
        "uptime_pct": f"{float(uptime * 100):.4f}",
        "consecutive_failures": str(window.consecutive_failures),
        "probes_in_window": str(total),
    }
    if sla is None:
        details["note"] = "the contract has no availability SLA; judged on this probe alone"
        if probe.ok:
            return CheckOutcome(CheckStatus.PASS, details)
        finding = Finding(
            ViolationSeverity.ERROR,
            f"{name} is unavailable (no availability SLA, so judged on this probe alone): "
            f"{probe.message}",
            element=probe.failed_table,
            expected_value="probe succeeds",
            actual_value=f"probe failed: {probe.reason}",
            metadata=meta,
        )
        return CheckOutcome(CheckStatus.FAIL, details, [finding])

    target = Fraction(sla.target_pct) / 100
    breached = uptime < target
    if target < 1:
        consumed_pct = float((1 - uptime) / (1 - target) * 100)
        details["budget_consumed_pct"] = round(consumed_pct, 4)
    else:  # a 100% target has no budget: any failure breaches it
        consumed_pct = float("inf") if failures else 0.0
    severity = consumed_severity(consumed_pct, ctx.config.severity_thresholds, breached=breached)
    if severity is None:
        return CheckOutcome(CheckStatus.PASS, details)
    shown = percent(float(uptime * 100))
    in_window = f"uptime {shown} over the last 24h ({failures} of {total} probes failed)"
    sla_text = f"the {_pct(target)}% availability SLA"
    if breached and not probe.ok:
        message = f"{name} is unavailable ({in_window}, below {sla_text}): {probe.message}"
    elif breached:
        message = f"{name} is below {sla_text}: {in_window}; the latest probe succeeded"
    else:
        used = f"{percent(consumed_pct)} of the error budget"
        message = f"{name} has used {used} of {sla_text}: {in_window}"
        if not probe.ok:
            message += f"; the latest probe failed: {probe.message}"
    finding = Finding(
        severity,
        message,
        element=probe.failed_table,
        expected_value=f"uptime >= {_pct(target)}%",
        actual_value=f"uptime {shown}",
        metadata={**meta, "budget_consumed_pct": f"{consumed_pct:.2f}"},
    )
    return CheckOutcome(CheckStatus.FAIL if breached else CheckStatus.PASS, details, [finding])


def _pct(share: Fraction) -> str:
    """An SLA target as configured, with at most four decimals: ``99.95``, ``100``."""
    return f"{float(share * 100):.4f}".rstrip("0").rstrip(".")
