"""Traces of check runs through the OpenTelemetry API: a span per contract run and per check.

    floe.contract.run            contract name and version
    └── floe.contract.check      floe.check.type, .status, .duration_ms; the worst violation's
        ├── floe.catalog.load_table   severity and type; status ERROR on fail or error
        └── floe.engine.scan

Only the API is used here: without an SDK set up by the application every span is a no-op
and nothing is recorded. ``floe sla check`` and ``floe sla monitor`` set one up
(``configure_from_env``) when ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` is set: OTLP over
HTTP/protobuf, service name ``floe`` (``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
apply), spans exported in a background thread so a check never waits for the collector.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from opentelemetry import context, trace
from opentelemetry.trace import Span, Status, StatusCode

from floe_core._version import __version__
from floe_core.events import CheckResult, CheckStatus, ContractViolationEvent

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTRACT_RUN = "floe.contract.run"
CHECK = "floe.contract.check"
CATALOG_LOAD = "floe.catalog.load_table"
ENGINE_SCAN = "floe.engine.scan"
#: Any of these set means "export traces" (``OTEL_TRACES_EXPORTER=none`` means not).
TRIGGERS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracer() -> trace.Tracer:
    """floe's tracer on whatever provider the application set (the API's no-op without one).

    Kept per provider: the SDK's ``get_tracer`` builds a new tracer on every call, a quarter
    of what a check's four spans cost."""
    global _tracer
    provider = trace.get_tracer_provider()
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, provider.get_tracer("floe", __version__))
    return _tracer[1]


_tracer: tuple[trace.TracerProvider, trace.Tracer] | None = None


@contextmanager
def contract_run(name: str, version: str) -> Iterator[Span]:
    """The parent span of one contract run."""
    with tracer().start_as_current_span(
        CONTRACT_RUN, attributes={"floe.contract.name": name, "floe.contract.version": version}
    ) as span:
        yield span


@contextmanager
def check_run(name: str, version: str, check_type: str) -> Iterator[Span]:
    """The span of one check; ``finish_check`` records what it found."""
    attributes = {
        "floe.contract.name": name,
        "floe.contract.version": version,
        "floe.check.type": check_type,
    }
    with tracer().start_as_current_span(
        CHECK, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        yield span


def finish_check(
    span: Span, result: CheckResult, violations: Sequence[ContractViolationEvent]
) -> None:
    """Record a check's status, duration and worst violation on its span."""
    span.set_attribute("floe.check.status", result.status.value)
    span.set_attribute("floe.check.duration_ms", round(result.duration_seconds * 1000, 3))
    worst = max(violations, key=lambda v: v.severity.rank, default=None)
    if worst is not None:
        span.set_attribute("floe.violation.severity", worst.severity.value)
        span.set_attribute("floe.violation.type", worst.violation_type.value)
    if result.status in (CheckStatus.FAIL, CheckStatus.ERROR):
        reason = str(result.details.get("reason", "")) or (
            f"{worst.severity.value} {worst.violation_type.value}" if worst else "failed"
        )
        span.set_status(Status(StatusCode.ERROR, reason))


@contextmanager
def step(name: str, **attributes: str) -> Iterator[Span]:
    """A child span of the current one (a catalog load, an engine scan)."""
    with tracer().start_as_current_span(name, attributes=attributes) as span:
        yield span


def traceparent(span: Span) -> str | None:
    """The W3C ``traceparent`` of ``span`` (version 00); None for a no-op span (no SDK)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def in_this_context(fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` to run in another thread with the caller's trace context (its spans' parent)."""
    captured = context.get_current()

    def run() -> T:
        token = context.attach(captured)
        try:
            return fn()
        finally:
            context.detach(token)

    return run


# Setting up the SDK (floe's own commands only) -----------------------------------------------


def wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for traces to be exported."""
    env = os.environ if env is None else env
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(env.get(name, "").strip() for name in TRIGGERS)


class TracingExport:
    """The SDK provider floe's command set up; ``shutdown`` flushes what is left (bounded)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider

    def shutdown(self, timeout_ms: int = 3000) -> None:
        self.provider.force_flush(timeout_ms)
        self.provider.shutdown()


def configure_from_env() -> TracingExport | None:
    """An SDK TracerProvider, set as the global one, when the ``OTEL_*`` environment asks for
    traces; else None and nothing is loaded. ``OTEL_TRACES_EXPORTER`` lists ``otlp`` (the
    default: OTLP over HTTP/protobuf) and/or ``console`` (spans as JSON on stderr, never on
    stdout where ``--format json`` writes). Settings floe cannot export with are one WARNING,
    and the checks run untraced."""
    if not wanted():
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    from floe_core.telemetry.otlp import ConfigProblem, OTLPHttpSpanExporter

    listed = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    names = [name.strip() for name in listed.split(",") if name.strip()]
    unknown = sorted(set(names) - {"otlp", "console"})
    if unknown:
        log.warning(
            "traces are not exported: OTEL_TRACES_EXPORTER=%s names an exporter floe does not "
            "have (%s); floe has otlp and console",
            listed,
            ", ".join(unknown),
        )
        return None
    exporters: list[SpanExporter] = []
    if "otlp" in names:
        try:
            exporters.append(OTLPHttpSpanExporter())
        except ConfigProblem as exc:
            log.warning("traces are not exported: %s", exc)
            return None
    if "console" in names:
        import sys

        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        exporters.append(ConsoleSpanExporter(out=sys.stderr))
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "floe"})
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return TracingExport(provider)
