"""Deprecation: is the contract deprecated, retired, or near or past its end of support or life?

One finding per run, at the worst severity that applies; its message states every date and
the status, and what to migrate to when the contract names it (``replacedBy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from floe_core.contracts.lifecycle import (
    DEPRECATED,
    RETIRED,
    Lifecycle,
    LifecycleDate,
    LifecycleError,
    contract_lifecycle,
)
from floe_core.contracts.model import DataContract, contract_name, contract_version
from floe_core.contracts.tables import ContractTable
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome, Finding

#: How long before the end of support the INFO notice starts.
NOTICE = timedelta(days=30)


class DeprecationCheck(Check):
    """Reads the contract's status and its endOfSupport/endOfLife SLA properties."""

    check_type = ViolationType.DEPRECATION
    needs_catalog = False
    reads_catalog = False

    def applies(self, contract: DataContract, tables: Sequence[ContractTable]) -> bool:
        try:
            return contract_lifecycle(contract).declared
        except LifecycleError:
            return True

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        try:
            lifecycle = contract_lifecycle(ctx.contract)
        except LifecycleError as exc:
            return CheckOutcome.error("invalid_contract", f"{exc.path}: {exc}")
        if not lifecycle.declared:
            return CheckOutcome.skipped(
                "the contract is neither deprecated nor retired and has no endOfSupport or "
                "endOfLife in slaProperties"
            )
        details = _details(lifecycle, ctx.now)
        reasons = _reasons(lifecycle, ctx.now)
        if not reasons:
            return CheckOutcome(CheckStatus.PASS, details)
        severity = max((s for s, _ in reasons), key=lambda s: s.rank)  # the worst wins
        worst_first = sorted(reasons, key=lambda r: r[0].rank, reverse=True)
        metadata = {
            "reasons": ",".join(code for _, code in worst_first),
            **{k: str(details[k]) for k in _META_KEYS if details[k] is not None},
        }
        finding = Finding(severity, _message(ctx, lifecycle), metadata=metadata)
        failed = severity.rank >= ViolationSeverity.ERROR.rank
        return CheckOutcome(CheckStatus.FAIL if failed else CheckStatus.PASS, details, [finding])


_META_KEYS = ("status", "end_of_support", "end_of_life", "replaced_by")


def _details(lifecycle: Lifecycle, now: datetime) -> dict[str, Any]:
    support, life = lifecycle.end_of_support, lifecycle.end_of_life
    return {
        "status": lifecycle.status,
        "end_of_support": support.text if support else None,
        "end_of_life": life.text if life else None,
        "days_until_end_of_support": support.days_from(now) if support else None,
        "days_until_end_of_life": life.days_from(now) if life else None,
        "replaced_by": lifecycle.replaced_by,
    }


def _reasons(lifecycle: Lifecycle, now: datetime) -> list[tuple[ViolationSeverity, str]]:
    """Every band that applies, as (severity, reason code)."""
    found: list[tuple[ViolationSeverity, str]] = []
    support, life = lifecycle.end_of_support, lifecycle.end_of_life
    if lifecycle.status == RETIRED:
        found.append((ViolationSeverity.ERROR, "retired"))
    if life and now >= life.at:
        found.append((ViolationSeverity.ERROR, "end_of_life_passed"))
    if lifecycle.status == DEPRECATED:
        found.append((ViolationSeverity.WARNING, "deprecated"))
    if support and now >= support.at:
        found.append((ViolationSeverity.WARNING, "end_of_support_passed"))
    # Without an endOfSupport, support ends at the end of life: the notice comes before that.
    notice = support or life
    if notice and notice.at - NOTICE <= now < notice.at:
        kind = "support" if support else "life"
        found.append((ViolationSeverity.INFO, f"end_of_{kind}_near"))
    return found


def _message(ctx: CheckContext, lifecycle: Lifecycle) -> str:
    clauses = []
    if lifecycle.status in (DEPRECATED, RETIRED):
        clauses.append(f"is {lifecycle.status}")
    if lifecycle.end_of_support:
        clauses.append(_when(lifecycle.end_of_support, "end of support", ctx.now))
    if lifecycle.end_of_life:
        clauses.append(_when(lifecycle.end_of_life, "end of life", ctx.now))
    subject = f"Contract {contract_name(ctx.contract)} {contract_version(ctx.contract)}"
    head = ", ".join(clauses[:-1]) + " and " + clauses[-1] if len(clauses) > 1 else clauses[0]
    target = f"; migrate to {lifecycle.replaced_by}" if lifecycle.replaced_by else ""
    return f"{subject} {head}{target}"


def _when(moment: LifecycleDate, what: str, now: datetime) -> str:
    days = moment.days_from(now)
    if now >= moment.at:
        ago = "today" if days == 0 else f"{_days(-days)} ago"
        return f"reached {what} on {moment.text} ({ago})"
    return f"reaches {what} on {moment.text} (in {_days(days)})"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
