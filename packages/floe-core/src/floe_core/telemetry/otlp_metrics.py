"""floe's metrics over OTLP/HTTP (protobuf), when the environment asks for them.

Asked for means ``OTEL_METRICS_EXPORTER`` lists ``otlp`` (a comma-separated list, as the
OpenTelemetry spec has it), or, with ``OTEL_METRICS_EXPORTER`` unset,
``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` is set. ``OTEL_METRICS_EXPORTER=none`` (or any list
without ``otlp``) means no. The spec's default for ``OTEL_METRICS_EXPORTER`` is ``otlp``, but
floe exports metrics only when asked explicitly: ``OTEL_EXPORTER_OTLP_ENDPOINT`` alone sends
traces, not metrics.

The standard variables apply to the exporter: ``OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT``,
``_HEADERS``, ``_TIMEOUT`` (milliseconds, as the specification and floe's trace exporter read
it; the Python exporter alone reads seconds), ``_COMPRESSION``; the service name is ``floe``
unless ``OTEL_SERVICE_NAME`` says, and ``OTEL_RESOURCE_ATTRIBUTES`` apply.

- ``floe sla monitor``: ``periodic_reader()`` is a second reader on the Prometheus provider
  (``metrics.prometheus_exporter(otlp=True)``), so one set of instruments feeds ``/metrics``
  and OTLP. It pushes every ``OTEL_METRIC_EXPORT_INTERVAL`` ms (60 s by default) from a
  thread of its own; stopping pushes the rest, for a few seconds at most.
- ``floe sla check``: ``one_off()`` is a provider of its own that pushes nothing until
  ``OneOffExport.shutdown`` sends the run's numbers once, at exit. A collector that does not
  answer is retried for ``EXPORT_TIMEOUT_SECONDS`` (unless an ``OTEL_*`` timeout says).

Exporting never fails a run: a collector that does not answer is one WARNING per export set
up (not one per push and retry), never an exception, and the exit status is the checks'.
Only this module's functions import the SDK and the exporter; importing it loads nothing.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from floe_core._redact import one_line, redact
from floe_core._version import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.resources import Resource

    from floe_core.telemetry.metrics import MonitorMetrics

log = logging.getLogger(__name__)

#: Setting this (with ``OTEL_METRICS_EXPORTER`` unset) asks for metrics over OTLP.
TRIGGER = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
#: How long ``floe sla check`` retries a collector that does not answer, unless OTEL_* says
#: (the exporter's own default is 10 s, which the command would wait for at exit).
EXPORT_TIMEOUT_SECONDS = 2.0
#: The monitor's pushes, unless OTEL_* says (the exporters' default).
PERIODIC_TIMEOUT_SECONDS = 10.0
#: The loggers an OTLP metrics export complains on (the exporter; the periodic reader).
_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.sdk.metrics._internal.export",
    __name__,
)


def wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for metrics over OTLP (explicitly: see the module)."""
    env = os.environ if env is None else env
    listed = env.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    if listed:
        return "otlp" in {name.strip() for name in listed.split(",")}
    return bool(env.get(TRIGGER, "").strip())


def resource() -> Resource:
    """Service name ``floe`` unless ``OTEL_SERVICE_NAME``; ``OTEL_RESOURCE_ATTRIBUTES`` apply."""
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "floe"})


def periodic_reader(*, one_off: bool = False) -> MetricReader:
    """A reader pushing to the OTLP/HTTP exporter the ``OTEL_*`` variables describe.

    ``one_off``: no thread and no periodic push (only a flush sends), and a collector that
    does not answer is given up after ``EXPORT_TIMEOUT_SECONDS``, unless OTEL_* says.
    """
    _warn_once()
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from floe_core.telemetry.otlp import env, timeout_seconds

    default = EXPORT_TIMEOUT_SECONDS if one_off else PERIODIC_TIMEOUT_SECONDS
    exporter = OTLPMetricExporter(
        timeout=timeout_seconds(env("TIMEOUT", os.environ, "METRICS"), default)
    )
    # The interval: OTEL_METRIC_EXPORT_INTERVAL (the SDK's default); a one-off run never ticks.
    return PeriodicExportingMetricReader(
        exporter, export_interval_millis=math.inf if one_off else None
    )


class OneOffExport:
    """``floe sla check``'s provider: record through ``metrics``, then ``shutdown`` once."""

    def __init__(self, provider: MeterProvider) -> None:
        from floe_core.telemetry.metrics import MonitorMetrics

        self.metrics: MonitorMetrics = MonitorMetrics(provider.get_meter("floe", __version__))
        self._provider = provider
        self._closed = False

    def shutdown(self, timeout_seconds: float = EXPORT_TIMEOUT_SECONDS) -> None:
        """Send what was recorded, once, then stop; a failure is logged, never raised.

        The collector is given ``timeout_seconds`` (retries included) unless OTEL_* says.
        Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        millis = timeout_seconds * 1000
        try:
            self._provider.force_flush(millis)
        except Exception as exc:  # a reader that timed out or failed to collect
            export_failed(exc)
        try:
            self._provider.shutdown(millis)
        except Exception as exc:
            export_failed(exc)


def one_off() -> OneOffExport | None:
    """``floe sla check``'s metrics when the environment asks for them, else None (and
    nothing is imported)."""
    if not wanted():
        return None
    from opentelemetry.sdk.metrics import MeterProvider

    try:
        reader = periodic_reader(one_off=True)
    except Exception as exc:  # OTEL_* settings floe or the SDK refuse: the run goes on
        export_failed(exc)
        return None
    return OneOffExport(
        MeterProvider(metric_readers=[reader], resource=resource(), shutdown_on_exit=False)
    )


def export_failed(exc: BaseException) -> None:
    """An export that failed outside the exporter's own logging: through the one warning."""
    log.warning("%s", exc)


def _warn_once() -> None:
    """From now on, the first WARNING of an OTLP metrics export is the only one.

    One filter for the process, on each logger records are made on (a filter applies only
    there); set up again, it may say once more. A logger's ``addFilter`` ignores a filter it
    already has, so setting up twice (a second monitor in one process) adds nothing.
    """
    _ONCE.said = False
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(_ONCE)


class _SayOnce(logging.Filter):
    """Lets the first WARNING (or worse) through, as one line naming the endpoint; drops the
    rest. Records below WARNING pass as they are."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if self.said:
            return False
        self.said = True
        from floe_core.telemetry.otlp import endpoint

        where = endpoint(os.environ, "METRICS")
        # Rewritten in place (a filter may not return a new record before Python 3.12).
        record.msg = redact(
            f"metrics could not be exported to {where}: {one_line(record.getMessage())} "
            "(said once; the checks are not affected)"
        )
        record.args = None
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_ONCE = _SayOnce()
