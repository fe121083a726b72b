"""Sending OpenLineage events without ever holding up a check.

Events go into a bounded queue that one daemon thread empties through a transport: floe's
own ``http`` one (``http_transport``) where the settings allow, else ``openlineage-python``'s.
A full queue drops the newest events; a backend that is down or slow costs the checks
nothing: the first failure is one WARNING, every failure is counted (``on_failure``, which
the monitor turns into ``floe_lineage_emit_failures_total``).

Where events go: the manifest's ``plugins.lineage_backend`` (``type: openlineage``,
``config: {transport: {type: http, url: ..., auth: ...}, namespace: ...}``), else the
client's own configuration (``OPENLINEAGE_URL``, ``OPENLINEAGE_CONFIG``, an
``openlineage.yml``). With neither, nothing is sent (the client's console fallback is not
used).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from floe_core._redact import one_line, redact, secret_values

log = logging.getLogger(__name__)

#: Events waiting to be sent at most; more are dropped (and counted) rather than wait.
QUEUE_CAPACITY = 10_000
_STOP = object()


class LineageEmitter:
    """A background sender of OpenLineage events through ``transport`` (``.emit(event)``)."""

    def __init__(
        self,
        transport: Any,
        *,
        where: str = "the OpenLineage backend",
        on_failure: Callable[[], None] | None = None,
        capacity: int = QUEUE_CAPACITY,
        secrets: Iterable[str] = (),
    ) -> None:
        self.transport = transport
        self.where = where
        self.secrets = frozenset(secrets)  # masked in what is logged
        self.on_failure = on_failure
        self.failures = 0
        self.sent = 0
        self._queue: queue.Queue[object] = queue.Queue(capacity)
        self._thread = threading.Thread(target=self._send, name="floe-lineage", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Queue ``events`` to be sent in order; never blocks (a full queue drops them)."""
        for event in events:
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self._failed("the queue of events to send is full")

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued, waiting ``timeout`` seconds at most, then stop; what is left
        then is dropped, and said (once)."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):  # full: what is queued is dropped below
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            left = self._queue.qsize()
            self._failed(f"still sending after {timeout:g}s; {left + 1} event(s) dropped")

    def _send(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                with contextlib.suppress(Exception):  # a connection that is gone already
                    self.transport.close()
                return
            try:
                self.transport.emit(event)
            except Exception as exc:  # each transport raises its own errors
                self._failed(f"{type(exc).__name__}: {one_line(str(exc))}")
            else:
                self.sent += 1

    def _failed(self, why: str) -> None:
        self.failures += 1
        if self.on_failure is not None:
            self.on_failure()
        log.log(
            logging.WARNING if self.failures == 1 else logging.DEBUG,
            "%s",
            redact(
                f"OpenLineage events could not be sent to {self.where}: {why} (said once; the "
                "checks are not affected)",
                self.secrets,
            ),
        )


def lineage_emitter(
    config: Mapping[str, Any] | None, *, on_failure: Callable[[], None] | None = None
) -> LineageEmitter | None:
    """The emitter ``config`` (``plugins.lineage_backend.config``) or the client's own
    configuration asks for; None when neither says where to send."""
    transport_config = (config or {}).get("transport")
    if transport_config:
        where = str(transport_config.get("url") or transport_config.get("type", "its transport"))
        from floe_core.lineage.http_transport import http_transport  # http.client: when used

        secrets = secret_values(transport_config)
        transport: Any = http_transport(transport_config)
        if transport is not None:
            return LineageEmitter(transport, where=where, on_failure=on_failure, secrets=secrets)
        from openlineage.client.transport import get_default_factory

        settings = dict(transport_config)
        # No retries unless asked: the events are sent in the background anyway, and each
        # retry would be a warning of urllib3's in floe's log.
        if settings.get("type") == "http":
            settings.setdefault("retry", {"total": 0})
        transport = get_default_factory().create(settings)
        return LineageEmitter(transport, where=where, on_failure=on_failure, secrets=secrets)
    if not client_configured():
        return None
    from openlineage.client import OpenLineageClient

    client = OpenLineageClient()
    where = os.environ.get("OPENLINEAGE_URL") or "the backend openlineage.yml names"
    return LineageEmitter(client.transport, where=where, on_failure=on_failure)


def client_configured(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> bool:
    """Whether openlineage-python has a configuration of its own to send with."""
    env = os.environ if env is None else env
    if any(env.get(name) for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")):
        return True
    if any(name.startswith("OPENLINEAGE__TRANSPORT") for name in env):
        return True
    places = [(cwd or Path.cwd()) / "openlineage.yml", Path.home() / ".openlineage/openlineage.yml"]
    return any(place.is_file() for place in places)
