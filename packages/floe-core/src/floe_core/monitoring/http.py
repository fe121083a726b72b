"""The monitor's HTTP server: liveness, readiness, status, Prometheus metrics, the SLA report.

Standard library only: a ``ThreadingHTTPServer`` in a daemon thread. Each request runs in a
thread of its own and asks a ``MonitorEndpoints`` for its answer; only the report is built on
the monitor's event loop (its state store is async), every other answer must be cheap and safe
to compute from any thread. Nothing it serves ever carries a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import math
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from floe_core._redact import one_line, redact
from floe_core.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_PORT = 9464  # the port OpenTelemetry's Prometheus exporter uses by default
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
STATUS_PATH = "/status"
METRICS_PATH = "/metrics"
REPORT_PATH = "/"
#: Seconds the report may take on the monitor's event loop before the answer is 503.
REPORT_TIMEOUT = 30.0

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
_MAX_DISCARDED_BODY = 64 * 1024


class MonitorEndpoints(Protocol):
    """What the server serves. All but ``report_html`` are called from the server's threads."""

    def liveness(self) -> tuple[bool, str]:
        """Alive, or why not (the scheduler loop is stuck)."""

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready, or every reason not (state database, catalog...)."""

    def status(self) -> dict[str, Any]:
        """The monitor's state as JSON-able data."""

    def metrics(self) -> tuple[bytes, str]:
        """The metrics exposition and its content type (Prometheus text format)."""

    async def report_html(self) -> str:
        """The SLA report as an HTML page; awaited on the monitor's event loop."""


_Answer = tuple[HTTPStatus, bytes, str]


class MonitorHttpServer:
    """Serves ``endpoints`` on ``host:port`` from ``start()`` to ``stop()``; a context manager."""

    def __init__(
        self,
        endpoints: MonitorEndpoints,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop,
        *,
        report_timeout: float = REPORT_TIMEOUT,
    ) -> None:
        self.endpoints = endpoints
        self.host = host
        self.loop = loop
        self.report_timeout = report_timeout
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on once started (the one the system chose for ``--port 0``)."""
        return int(self._server.server_address[1]) if self._server else self._port

    @property
    def url(self) -> str:
        """``http://host:port``, without a trailing slash: append a path to it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a daemon thread; ``InputError`` if the address cannot be used."""
        if self._server is not None:
            raise RuntimeError("the monitor's HTTP server is already started")
        self._server = self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how soon stop() returns
            name="floe-monitor-http",
            daemon=True,
        )
        self._thread.start()
        log.info(
            "serving /healthz /readyz /status /metrics and the SLA report on %s",
            self.url,
            extra={"floe.http.url": self.url},
        )

    def stop(self) -> None:
        """Stop serving and free the port; requests under way finish in their own threads."""
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None:
            return
        self._port = int(server.server_address[1])
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> MonitorHttpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _bind(self) -> _Server:
        where = f"port {self._port} on {self.host}"
        if not 0 <= self._port <= 65535:
            raise InputError(f"port {self._port} is not a TCP port; pass --port 0 to 65535")
        try:
            return _Server(self, (self.host, self._port))
        except socket.gaierror as exc:
            raise InputError(
                f"cannot listen on host '{self.host}' ({exc.strerror}); pass --host with an "
                "address of this machine (127.0.0.1, or 0.0.0.0 for every interface)"
            ) from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                message = f"{where} is in use; pass --port N (0 picks a free one)"
            elif exc.errno == errno.EACCES:
                message = f"{where} needs privileges; pass --port N above 1023 (0 picks one)"
            elif exc.errno == errno.EADDRNOTAVAIL:
                message = (
                    f"{self.host} is not an address of this machine; pass --host with one "
                    "(127.0.0.1, or 0.0.0.0 for every interface)"
                )
            else:
                message = f"cannot listen on {where}: {exc.strerror or exc}"
            raise InputError(message) from None

    # Answers, one per path: each returns (status, body, content type).

    def _liveness(self) -> _Answer:
        alive, reason = self.endpoints.liveness()
        if alive:
            return HTTPStatus.OK, b"ok\n", TEXT
        return HTTPStatus.SERVICE_UNAVAILABLE, _lines([reason or "not alive"]), TEXT

    def _readiness(self) -> _Answer:
        ready, reasons = self.endpoints.readiness()
        if ready:
            return HTTPStatus.OK, b"ok\n", TEXT
        return HTTPStatus.SERVICE_UNAVAILABLE, _lines(reasons or ["not ready"]), TEXT

    def _status(self) -> _Answer:
        text = json.dumps(
            _finite(self.endpoints.status()), indent=2, allow_nan=False, default=_json
        )
        return HTTPStatus.OK, (text + "\n").encode(), JSON

    def _metrics(self) -> _Answer:
        body, content_type = self.endpoints.metrics()
        return HTTPStatus.OK, body, content_type

    def _report(self) -> _Answer:
        if not self.loop.is_running():
            reason = "the monitor's event loop is not running; the SLA report cannot be built"
            return HTTPStatus.SERVICE_UNAVAILABLE, _lines([reason]), TEXT
        try:
            report = self.endpoints.report_html()
        except Exception as exc:
            return self._report_failed(exc)
        try:
            future = asyncio.run_coroutine_threadsafe(report, self.loop)
        except Exception as exc:  # the loop closed since is_running() said otherwise
            report.close()
            return self._report_failed(exc)
        try:
            html = future.result(self.report_timeout)
        except TimeoutError:
            future.cancel()
            reason = f"the SLA report took longer than {self.report_timeout:g} s; try again later"
            log.warning("%s", reason, extra={"floe.http.path": REPORT_PATH})
            return HTTPStatus.SERVICE_UNAVAILABLE, _lines([reason]), TEXT
        except Exception as exc:
            return self._report_failed(exc)
        return HTTPStatus.OK, html.encode(), HTML

    def _report_failed(self, exc: Exception) -> _Answer:
        reason = f"the SLA report could not be built: {_describe(exc)}"
        log.error("%s", reason, exc_info=exc, extra={"floe.http.path": REPORT_PATH})
        return HTTPStatus.SERVICE_UNAVAILABLE, _lines([reason]), TEXT

    def _routes(self) -> dict[str, Callable[[], _Answer]]:
        return {
            HEALTH_PATH: self._liveness,
            READY_PATH: self._readiness,
            STATUS_PATH: self._status,
            METRICS_PATH: self._metrics,
            REPORT_PATH: self._report,
        }


class _Server(ThreadingHTTPServer):
    """The stdlib server, bound to its ``MonitorHttpServer`` and quiet on stderr."""

    daemon_threads = True

    def __init__(self, owner: MonitorHttpServer, address: tuple[str, int]) -> None:
        self.owner = owner
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name (socket.getfqdn), which can
        # hang for seconds in a container; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.owner.host
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints these to stderr; a client that hung up is no news.
        exc = sys.exc_info()[1]
        level = logging.DEBUG if isinstance(exc, ConnectionError) else logging.ERROR
        log.log(level, "HTTP connection from %s failed: %s", client_address, exc, exc_info=exc)


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD on the monitor's paths; 404 elsewhere, 405 for other methods."""

    server_version = "floe-monitor"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _not_allowed(self) -> None:
        # Read a small body: closing on unread bytes resets the connection before the client
        # has read the answer. A large or chunked one is left, and the connection closed.
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= _MAX_DISCARDED_BODY:
            self.rfile.read(int(length))
        elif length or "Transfer-Encoding" in self.headers:
            self.close_connection = True
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            _lines([f"{self.command} is not allowed; use GET or HEAD"]),
            TEXT,
            head=False,
            allow="GET, HEAD",
        )

    # Methods the server does not know at all get the stdlib's 501, as RFC 9110 has it.
    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _serve(self, head: bool) -> None:
        owner = cast(_Server, self.server).owner
        path = urlsplit(self.path).path
        answer = owner._routes().get(path)
        if answer is None:
            body = _lines([f"no such path: {path}; the monitor serves:"]) + _ENDPOINTS
            self._send(HTTPStatus.NOT_FOUND, body, TEXT, head=head)
            return
        try:
            status, body, content_type = answer()
        except Exception as exc:
            reason = f"{path} failed: {_describe(exc)}"
            log.error("%s", reason, exc_info=exc, extra={"floe.http.path": path})
            status, body, content_type = HTTPStatus.INTERNAL_SERVER_ERROR, _lines([reason]), TEXT
        self._send(status, body, content_type, head=head)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        *,
        head: bool,
        allow: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if allow is not None:
            self.send_header("Allow", allow)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib writes an access log line per request to stderr; ours goes to DEBUG.
        log.debug("%s " + format, self.address_string(), *args)


_ENDPOINTS = "".join(
    f"  {path:<10} {what}\n"
    for path, what in [
        (HEALTH_PATH, "liveness"),
        (READY_PATH, "readiness"),
        (STATUS_PATH, "status (JSON)"),
        (METRICS_PATH, "metrics (Prometheus text format)"),
        (REPORT_PATH, "the SLA report (HTML)"),
    ]
).encode()


def _lines(lines: list[str]) -> bytes:
    """Plain-text body: each entry on a line of its own, secrets masked."""
    return "".join(redact(one_line(line)) + "\n" for line in lines).encode()


def _describe(exc: BaseException) -> str:
    """``ValueError: message`` on one line, secrets masked."""
    message = redact(one_line(str(exc)))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _finite(value: Any) -> Any:
    """``value`` with every NaN and infinity replaced by None, which JSON has."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _json(value: Any) -> Any:
    """What ``json`` cannot write itself: timestamps as ISO 8601, enums by value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
