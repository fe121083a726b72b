"""Run one check: in its own thread, timed, under a timeout, its findings turned into events.

A check that runs out of time is reported as ``error`` with reason ``timeout`` straight away;
its thread is a daemon, so a hung catalog call never keeps the process alive.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from floe_core._redact import redact
from floe_core.contracts.consumers import affected_consumers
from floe_core.contracts.model import contract_name, contract_version
from floe_core.errors import (
    CatalogConfigError,
    CatalogConnectionError,
    FloeError,
    TableNotFoundError,
)
from floe_core.events import CheckResult, ContractViolationEvent
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome, Finding
from floe_core.telemetry import tracing

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from opentelemetry.trace import Span

    from floe_core.plugins.catalog import CatalogPlugin

log = logging.getLogger(__name__)
T = TypeVar("T")


class CheckTimeout(Exception):
    """The check did not finish within ``check_timeout_seconds``."""


async def run_in_daemon_thread(fn: Callable[[], T], timeout: float) -> T:
    """``fn()`` in a daemon thread; ``CheckTimeout`` if it has not returned after ``timeout``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result: T | None = fn()
            error: BaseException | None = None
        except BaseException as exc:  # handed to the awaiting coroutine, not swallowed
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(deliver, result, error)
        except RuntimeError:
            # The loop has closed: the caller timed out and moved on; nobody awaits this.
            log.debug("late check result discarded after timeout")

    threading.Thread(target=target, name="floe-check", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        raise CheckTimeout from None


def _outcome_of_error(exc: BaseException, check: Check, timeout: float) -> CheckOutcome:
    if isinstance(exc, CheckTimeout):
        return CheckOutcome.error(
            "timeout",
            f"the {check.check_type.value} check did not finish within {timeout:g}s "
            "(check_timeout_seconds); the catalog or storage may be slow or unreachable",
        )
    if isinstance(exc, TableNotFoundError):
        return CheckOutcome.error("table_not_found", str(exc))
    if isinstance(exc, CatalogConnectionError):
        return CheckOutcome.error("catalog_unreachable", str(exc))
    if isinstance(exc, FloeError):
        return CheckOutcome.error("error", str(exc))
    problem = f"{type(exc).__name__}: {redact(str(exc))}"
    log.error(
        "%s check crashed: %s",
        check.check_type.value,
        problem,
        extra={"floe.check.type": check.check_type.value},
    )
    log.debug("traceback of the crashed %s check", check.check_type.value, exc_info=exc)
    return CheckOutcome.error(
        "internal_error", f"the {check.check_type.value} check failed unexpectedly: {problem}"
    )


async def connect_catalog(catalog: CatalogPlugin, timeout: float) -> CheckOutcome | None:
    """Connect ``catalog`` once, before the checks; the error outcome if it cannot be.

    Raises ``CatalogConfigError`` when the catalog cannot work as configured: that is no
    outage, and the run stops before anything is checked or recorded.
    """
    try:
        await run_in_daemon_thread(catalog.reach, timeout)
    except CatalogConfigError:
        raise
    except CheckTimeout:
        return CheckOutcome.error(
            "timeout",
            f"catalog '{catalog.catalog_name}' did not answer within {timeout:g}s "
            "(check_timeout_seconds)",
        )
    except FloeError as exc:
        return CheckOutcome.error("catalog_unreachable", str(exc))
    return None


def failed_run(
    check: Check, ctx: CheckContext, outcome: CheckOutcome
) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """The result of a check that could not start, because of ``outcome``."""
    with _span(check, ctx) as span:
        result = _result(check, ctx, outcome, 0.0, [])
        tracing.finish_check(span, result, [])
    return result, []


async def run_check(
    check: Check, ctx: CheckContext, timeout: float
) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """Run ``check`` against ``ctx``; never raises for a problem with the table or catalog.

    The run is a ``floe.contract.check`` span (a no-op without an OpenTelemetry SDK); its
    ``traceparent`` goes into each violation's metadata, so an alert links to its trace.
    """
    with _span(check, ctx) as span:
        started = time.monotonic()
        evaluate = tracing.in_this_context(lambda: check.evaluate(ctx))
        try:
            outcome = await run_in_daemon_thread(evaluate, timeout)
        except Exception as exc:  # every failure becomes an ``error`` result with its reason
            outcome = _outcome_of_error(exc, check, timeout)
        duration = time.monotonic() - started
        parent = tracing.traceparent(span)
        events = sorted(
            (_event(ctx, check, f, duration, parent) for f in outcome.findings),
            key=lambda e: e.severity.rank,
            reverse=True,
        )
        result = _result(check, ctx, outcome, duration, events)
        tracing.finish_check(span, result, events)
    return result, events


def _span(check: Check, ctx: CheckContext) -> AbstractContextManager[Span]:
    return tracing.check_run(
        contract_name(ctx.contract), contract_version(ctx.contract), check.check_type.value
    )


def _result(
    check: Check,
    ctx: CheckContext,
    outcome: CheckOutcome,
    duration: float,
    events: list[ContractViolationEvent],
) -> CheckResult:
    return CheckResult(
        id=str(uuid.uuid4()),
        contract_name=contract_name(ctx.contract),
        check_type=check.check_type,
        status=outcome.status,
        duration_seconds=duration,
        timestamp=ctx.now,
        details=outcome.details,
        violation=events[0] if events else None,
    )


def _event(
    ctx: CheckContext, check: Check, finding: Finding, duration: float, parent: str | None
) -> ContractViolationEvent:
    return ContractViolationEvent(
        contract_name=contract_name(ctx.contract),
        contract_version=contract_version(ctx.contract),
        violation_type=check.check_type,
        severity=finding.severity,
        message=finding.message,
        element=finding.element,
        expected_value=finding.expected_value,
        actual_value=finding.actual_value,
        timestamp=ctx.now,
        affected_consumers=affected_consumers(ctx.contract),
        check_duration_seconds=duration,
        metadata={**finding.metadata, "traceparent": parent} if parent else finding.metadata,
    )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
