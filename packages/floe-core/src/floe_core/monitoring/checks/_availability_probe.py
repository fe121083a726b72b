"""The availability probe: the catalog, each table's metadata and the compute engine, in turn.

The probe runs in a daemon thread under its own deadline; when time runs out the step in
progress is recorded as failed (reason ``timeout``) and the thread is left to finish alone.
A plugin's ``FloeError`` is a failed step, its message already redacted by the plugin; any
other exception is a bug in the plugin, raised again to the check (the runner reports it
as ``internal_error``) rather than counted as downtime.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from floe_core.errors import FloeError, TableNotFoundError
from floe_core.monitoring.checks.base import CheckContext
from floe_core.plugins.compute import ComputePlugin, ConnectionResult

#: What a step reports: a failure reason (None when it succeeded) and a message.
_Answer = tuple[str | None, str | None]


@dataclass(frozen=True)
class ProbeStep:
    """One step of a probe: ``catalog``, ``table`` or ``compute``, and how it went."""

    step: str
    target: str  # the catalog name, table identifier or compute plugin name
    ok: bool
    latency_ms: float
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Probe:
    """The steps of one probe; it succeeded when every step did."""

    steps: tuple[ProbeStep, ...]
    duration_ms: float

    @property
    def failure(self) -> ProbeStep | None:
        """The first step that failed."""
        return next((s for s in self.steps if not s.ok), None)

    @property
    def ok(self) -> bool:
        """Whether every step succeeded."""
        return self.failure is None

    @property
    def reason(self) -> str | None:
        """The first failure's reason."""
        return self.failure.reason if self.failure else None

    @property
    def message(self) -> str | None:
        """The first failure's message."""
        return self.failure.message if self.failure else None

    @property
    def failed_table(self) -> str | None:
        """The table whose metadata did not load, if that is what failed first."""
        failure = self.failure
        return failure.target if failure is not None and failure.step == "table" else None

    def summary(self) -> dict[str, Any]:
        """The probe as a result's details show it."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 3),
            "steps": [{**asdict(s), "latency_ms": round(s.latency_ms, 3)} for s in self.steps],
        }


def run_probe(ctx: CheckContext, compute: ComputePlugin, timeout: float) -> Probe:
    """Probe ``ctx``'s catalog, tables and ``compute``; give up after ``timeout`` seconds."""
    run = _ProbeRun(ctx, compute)
    started = time.monotonic()
    threading.Thread(target=run.run, name="floe-availability-probe", daemon=True).start()
    run.done.wait(max(timeout, 0.0))
    return run.result(timeout, started)


class _ProbeRun:
    def __init__(self, ctx: CheckContext, compute: ComputePlugin) -> None:
        self.ctx = ctx
        self.compute = compute
        self.steps: list[ProbeStep] = []
        self.current: tuple[str, str, float] | None = None
        self.abandoned = False
        self.finished = False
        self.crash: Exception | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            if self._step("catalog", self.ctx.catalog.catalog_name, self._catalog):
                identifiers = [t.identifier for t in self.ctx.tables if t.identifier]
                for identifier in dict.fromkeys(identifiers):
                    self._step("table", identifier, partial(self._table, identifier))
            self._step("compute", self.compute.name, self._compute)
        except Exception as exc:  # a plugin bug: handed to the check, which raises it again
            self.crash = exc
        finally:
            with self.lock:
                self.finished = True
            self.done.set()

    def _step(self, step: str, target: str, action: Callable[[], _Answer]) -> bool:
        with self.lock:
            if self.abandoned:
                return False
            started = time.monotonic()
            self.current = (step, target, started)
        reason, message = action()
        with self.lock:
            if self.abandoned:
                return False
            latency = (time.monotonic() - started) * 1000
            self.steps.append(ProbeStep(step, target, reason is None, latency, reason, message))
            self.current = None
        return reason is None

    def _catalog(self) -> _Answer:
        try:
            self.ctx.catalog.reach()
        except FloeError as exc:
            return "catalog_unreachable", str(exc)
        return None, None

    def _table(self, identifier: str) -> _Answer:
        try:
            self.ctx.view(identifier)
        except TableNotFoundError as exc:
            return "table_not_found", str(exc)
        except FloeError as exc:
            return "table_unavailable", str(exc)
        return None, None

    def _compute(self) -> _Answer:
        result = recent_health(self.compute)
        if result.ok:
            return None, result.message or None
        name = self.compute.name
        return "compute_unavailable", f"compute engine '{name}' did not answer: {result.message}"

    def result(self, timeout: float, started: float) -> Probe:
        """The steps so far; the one in progress, if any, failed with reason ``timeout``."""
        with self.lock:
            self.abandoned = True
            steps = list(self.steps)
            finished = self.finished
            step, target, step_started = self.current or ("probe", "", started)
        if finished and self.crash is not None:
            raise self.crash
        now = time.monotonic()
        if not finished:
            steps.append(
                ProbeStep(
                    step,
                    target,
                    False,
                    (now - step_started) * 1000,
                    "timeout",
                    f"the {step} step ({target}) did not answer within the probe's "
                    f"{timeout:.1f}s deadline (just inside check_timeout_seconds); the "
                    f"{'compute engine' if step == 'compute' else 'catalog or storage'} "
                    "may be slow or unreachable",
                )
            )
        return Probe(tuple(steps), (now - started) * 1000)


#: How long a compute engine that answered counts as answering without asking it again.
#: The engine is one for every contract: a monitor probing 30 contracts a second would
#: otherwise open 30 DuckDB connections a second to learn the same thing. A failure is
#: never reused: the next probe asks again.
HEALTHY_FOR_SECONDS = 10.0
_recent: weakref.WeakKeyDictionary[ComputePlugin, tuple[float, ConnectionResult]] = (
    weakref.WeakKeyDictionary()
)
_recent_lock = threading.Lock()


def recent_health(compute: ComputePlugin) -> ConnectionResult:
    """``compute.validate_connection()``, or its healthy answer of the last few seconds."""
    now = time.monotonic()
    with _recent_lock:
        cached = _recent.get(compute)
    if cached is not None and now - cached[0] < HEALTHY_FOR_SECONDS:
        return cached[1]
    result = compute.validate_connection()
    with _recent_lock:
        if result.ok:
            _recent[compute] = (now, result)
        else:
            _recent.pop(compute, None)
    return result
