"""A real HTTP server on 127.0.0.1 that records what it is sent: for testing alert channels.

    with HttpReceiver() as receiver:
        channel = WebhookChannel({"url": receiver.url("/hook")})
        ...
        [request] = receiver.requests

Answers are 200 with an empty JSON body unless the test scripts others with ``respond``
(a status, headers, a delay before answering, or a body), taken in order, the last kept.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float  # time.monotonic() when it arrived
    client_port: int = 0  # the client's side of the connection: one per connection

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """How the server answers one request."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"{}"
    delay: float = 0.0  # seconds to wait before answering


class HttpReceiver:
    """A threaded HTTP server on a free port of 127.0.0.1; a context manager.

    HTTP/1.0 (a connection per request) unless ``keep_alive``: HTTP/1.1, connections kept
    open between requests as a collector or a lineage backend keeps them (an answer with a
    ``Connection: close`` header closes one)."""

    def __init__(self, *, keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive
        self.requests: list[Received] = []
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        """``http://127.0.0.1:PORT`` plus ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def respond(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers`` in turn; the last one keeps answering."""
        with self._lock:
            self._answers = list(answers)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The requests, once at least ``count`` have arrived (AssertionError after timeout)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
            return list(self.requests)

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closes a kept-alive connection is not an error; the rest are."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        ThreadingHTTPServer.handle_error(self._server, request, client_address)

    def _next_answer(self) -> Answer:
        with self._lock:
            if len(self._answers) > 1:
                return self._answers.pop(0)
            return self._answers[0] if self._answers else Answer()

    def _record(self, request: Received) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"
            # The headers and the body are two writes: with Nagle's algorithm the body would
            # wait for the client's delayed ACK (40 ms on Linux) on a kept-alive connection.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                port = int(self.client_address[1])
                receiver._record(
                    Received(self.command, self.path, headers, body, time.monotonic(), port)
                )
                answer = receiver._next_answer()
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as a timeout test wants

            do_POST = do_PUT = do_GET = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``requests``, not the server's log."""

        return Handler


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on: to refuse connections, or for a server that
    cannot bind port 0 itself (aiosmtpd's ``Controller``, Alertmanager)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
