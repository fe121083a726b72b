"""The monitor's HTTP server, over real HTTP on 127.0.0.1.

The endpoints are a fake here: this is the HTTP layer (paths, status codes, content types,
failures), not the monitor, whose answers are tested with the monitor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from floe_core.errors import InputError
from floe_core.monitoring.http import (
    DEFAULT_PORT,
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    REPORT_PATH,
    STATUS_PATH,
    MonitorEndpoints,
    MonitorHttpServer,
)

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
PATHS = [HEALTH_PATH, READY_PATH, STATUS_PATH, METRICS_PATH, REPORT_PATH]


@dataclass
class FakeEndpoints:
    """Answers set by the test; ``failing`` names the provider that raises ``error``."""

    alive: tuple[bool, str] = (True, "")
    ready: tuple[bool, list[str]] = (True, [])
    state: dict[str, Any] = field(default_factory=lambda: {"replica": "a", "contracts": 2})
    exposition: bytes = b"# TYPE floe_up gauge\nfloe_up 1\n"
    html: str = "<!doctype html><title>SLA report</title>"
    report_delay: float = 0.0
    failing: str = ""
    error: Exception = field(default_factory=lambda: ValueError("boom"))
    report_threads: list[int] = field(default_factory=list)

    def _maybe_fail(self, name: str) -> None:
        if self.failing == name:
            raise self.error

    def liveness(self) -> tuple[bool, str]:
        self._maybe_fail("liveness")
        return self.alive

    def readiness(self) -> tuple[bool, list[str]]:
        self._maybe_fail("readiness")
        return self.ready

    def status(self) -> dict[str, Any]:
        self._maybe_fail("status")
        return self.state

    def metrics(self) -> tuple[bytes, str]:
        self._maybe_fail("metrics")
        return self.exposition, PROMETHEUS

    async def report_html(self) -> str:
        self.report_threads.append(threading.get_ident())
        await asyncio.sleep(self.report_delay)
        self._maybe_fail("report_html")
        return self.html


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The monitor's event loop, running in a thread of its own as it does in the monitor."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="monitor-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def endpoints() -> FakeEndpoints:
    return FakeEndpoints()


@pytest.fixture
def serve(
    loop: asyncio.AbstractEventLoop, endpoints: FakeEndpoints
) -> Iterator[Callable[..., MonitorHttpServer]]:
    """Start a server on a free port of 127.0.0.1 (stopped after the test)."""
    started: list[MonitorHttpServer] = []

    def start(**options: Any) -> MonitorHttpServer:
        server = MonitorHttpServer(endpoints, "127.0.0.1", 0, loop, **options)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(serve: Callable[..., MonitorHttpServer]) -> MonitorHttpServer:
    return serve()


def get(server: MonitorHttpServer, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, server.url + path, timeout=5)


def test_the_fake_is_a_monitor_endpoints() -> None:
    endpoints: MonitorEndpoints = FakeEndpoints()  # mypy checks the Protocol here
    assert endpoints.liveness() == (True, "")


def test_port_0_picks_a_free_port(server: MonitorHttpServer) -> None:
    assert server.port not in (0, DEFAULT_PORT)
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_healthz(server: MonitorHttpServer, endpoints: FakeEndpoints) -> None:
    response = get(server, HEALTH_PATH)
    assert (response.status_code, response.text) == (200, "ok\n")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"

    endpoints.alive = (False, "the scheduler loop has not ticked for 312 s (limit 120 s)")
    response = get(server, HEALTH_PATH)
    assert response.status_code == 503
    assert response.text == "the scheduler loop has not ticked for 312 s (limit 120 s)\n"


def test_readyz_lists_every_reason(server: MonitorHttpServer, endpoints: FakeEndpoints) -> None:
    assert get(server, READY_PATH).text == "ok\n"

    endpoints.ready = (False, ["state database unreachable", "catalog 'lake' unreachable"])
    response = get(server, READY_PATH)
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.splitlines() == [
        "state database unreachable",
        "catalog 'lake' unreachable",
    ]


def test_status_is_json_without_infinities(
    server: MonitorHttpServer, endpoints: FakeEndpoints
) -> None:
    endpoints.state = {
        "replica": "a",
        "started_at": datetime(2024, 6, 1, 12, tzinfo=UTC),
        "lag_seconds": float("inf"),
        "checks": [{"compliance_pct": float("nan")}, {"compliance_pct": 99.5}],
    }
    response = get(server, STATUS_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "replica": "a",
        "started_at": "2024-06-01T12:00:00+00:00",
        "lag_seconds": None,
        "checks": [{"compliance_pct": None}, {"compliance_pct": 99.5}],
    }
    assert "Infinity" not in response.text
    assert "NaN" not in response.text


def test_metrics_keeps_the_providers_content_type(server: MonitorHttpServer) -> None:
    response = get(server, METRICS_PATH + "?name[]=floe_up")  # a query string is ignored
    assert response.status_code == 200
    assert response.headers["content-type"] == PROMETHEUS
    assert response.content == b"# TYPE floe_up gauge\nfloe_up 1\n"


def test_report_is_built_on_the_monitors_loop(
    server: MonitorHttpServer, endpoints: FakeEndpoints, loop: asyncio.AbstractEventLoop
) -> None:
    response = get(server, REPORT_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == endpoints.html
    loop_thread = asyncio.run_coroutine_threadsafe(_thread_id(), loop).result(5)
    assert endpoints.report_threads == [loop_thread]


async def _thread_id() -> int:
    return threading.get_ident()


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(server: MonitorHttpServer, path: str) -> None:
    got, head = get(server, path), get(server, path, "HEAD")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_unknown_path_is_404_listing_the_endpoints(server: MonitorHttpServer) -> None:
    response = get(server, "/health")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("no such path: /health;")
    for path in PATHS:
        assert f"  {path} " in response.text
    assert get(server, "/health", "HEAD").content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_405(server: MonitorHttpServer, method: str) -> None:
    response = httpx.request(method, server.url + STATUS_PATH, content=b"{}", timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.text == f"{method} is not allowed; use GET or HEAD\n"


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("liveness", HEALTH_PATH),
        ("readiness", READY_PATH),
        ("status", STATUS_PATH),
        ("metrics", METRICS_PATH),
    ],
)
def test_a_failing_provider_is_500_on_one_line(
    server: MonitorHttpServer,
    endpoints: FakeEndpoints,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    path: str,
) -> None:
    endpoints.failing = provider
    endpoints.error = RuntimeError("connection to postgresql://floe:hunter2@db/floe\nfailed")
    with caplog.at_level(logging.ERROR, logger="floe_core.monitoring.http"):
        response = get(server, path)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == (
        f"{path} failed: RuntimeError: connection to postgresql://floe:***@db/floe. failed\n"
    )
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == response.text.strip()
    assert "hunter2" not in response.text


def test_status_that_json_cannot_write_is_500(
    server: MonitorHttpServer, endpoints: FakeEndpoints
) -> None:
    endpoints.state = {"when": object()}
    response = get(server, STATUS_PATH)
    assert response.status_code == 500
    assert response.text == "/status failed: TypeError: object is not JSON serializable\n"


def test_report_timeout_is_503(
    serve: Callable[..., MonitorHttpServer],
    endpoints: FakeEndpoints,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve(report_timeout=0.2)
    endpoints.report_delay = 10
    with caplog.at_level(logging.WARNING, logger="floe_core.monitoring.http"):
        response = get(server, REPORT_PATH)
    assert response.status_code == 503
    assert response.text == "the SLA report took longer than 0.2 s; try again later\n"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_report_failure_is_503_on_one_line(
    server: MonitorHttpServer, endpoints: FakeEndpoints, caplog: pytest.LogCaptureFixture
) -> None:
    endpoints.failing = "report_html"
    endpoints.error = OSError("state database gone\nIs the server running?")
    with caplog.at_level(logging.ERROR, logger="floe_core.monitoring.http"):
        response = get(server, REPORT_PATH)
    assert response.status_code == 503
    assert response.text == (
        "the SLA report could not be built: OSError: state database gone. Is the server running?\n"
    )
    assert "Traceback" not in response.text
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_report_without_a_running_loop_is_503(endpoints: FakeEndpoints) -> None:
    loop = asyncio.new_event_loop()
    try:
        with MonitorHttpServer(endpoints, "127.0.0.1", 0, loop) as server:
            response = get(server, REPORT_PATH)
    finally:
        loop.close()
    assert response.status_code == 503
    assert "event loop is not running" in response.text
    assert endpoints.report_threads == []  # no coroutine was made, so none left unawaited


def test_no_access_log_on_stderr(
    server: MonitorHttpServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="floe_core.monitoring.http"):
        get(server, HEALTH_PATH)
        get(server, "/nowhere")
    assert capsys.readouterr().err == ""
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in logged)


def test_port_in_use_is_an_input_error(loop: asyncio.AbstractEventLoop) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MonitorHttpServer(FakeEndpoints(), "127.0.0.1", port, loop)
        with pytest.raises(InputError) as raised:
            server.start()
    assert str(raised.value) == (
        f"port {port} on 127.0.0.1 is in use; pass --port N (0 picks a free one)"
    )


@pytest.mark.parametrize(
    ("host", "port", "message"),
    [
        ("127.0.0.1", 70000, "port 70000 is not a TCP port; pass --port 0 to 65535"),
        ("192.0.2.1", 0, "192.0.2.1 is not an address of this machine; pass --host"),
        ("no-such-host.invalid", 0, "cannot listen on host 'no-such-host.invalid' ("),
    ],
)
def test_an_address_that_cannot_be_used_is_an_input_error(
    loop: asyncio.AbstractEventLoop, host: str, port: int, message: str
) -> None:
    server = MonitorHttpServer(FakeEndpoints(), host, port, loop)
    with pytest.raises(InputError) as raised:
        server.start()
    assert str(raised.value).startswith(message)


def test_stop_frees_the_port(endpoints: FakeEndpoints, loop: asyncio.AbstractEventLoop) -> None:
    first = MonitorHttpServer(endpoints, "127.0.0.1", 0, loop)
    first.start()
    port = first.port
    assert get(first, HEALTH_PATH).status_code == 200
    first.stop()
    first.stop()  # twice is harmless
    assert first.port == port
    with pytest.raises(httpx.ConnectError):
        get(first, HEALTH_PATH)
    # The same port again, as a restarted monitor would take it.
    with MonitorHttpServer(endpoints, "127.0.0.1", port, loop) as again:
        assert get(again, HEALTH_PATH).text == "ok\n"


def test_start_twice_is_a_mistake(server: MonitorHttpServer) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        server.start()


def test_status_json_is_indented(server: MonitorHttpServer) -> None:
    text = get(server, STATUS_PATH).text
    assert text == json.dumps({"replica": "a", "contracts": 2}, indent=2) + "\n"
