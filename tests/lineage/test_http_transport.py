"""floe's own OpenLineage ``http`` transport sends what openlineage-python's would (path,
headers, body), to a receiver the test starts; settings it does not honour go to the client."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from floe_core._http import PostError
from floe_core.lineage.emitter import lineage_emitter
from floe_core.lineage.http_transport import HttpTransport, http_transport
from floe_core.testing.receiver import Answer, HttpReceiver

EVENT = {
    "eventType": "FAIL",
    "eventTime": "2026-12-05T10:00:00.000Z",
    "producer": "https://github.com/floe-dev/floe",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0191f7b4-5a4e-7c4e-9a2f-3f0d6e1b2c3d", "facets": {}},
    "job": {"namespace": "floe", "name": "contract_check.orders.freshness"},
    "inputs": [{"namespace": "sqlite://", "name": "sales.orders"}],
    "outputs": [],
}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def settings(receiver: HttpReceiver, **more: Any) -> dict[str, Any]:
    return {"type": "http", "url": receiver.url("/base/").rstrip("/"), **more}


@pytest.mark.parametrize(
    "more",
    [
        {},
        {"endpoint": "api/v2/events"},
        {"auth": {"type": "api_key", "apiKey": "s3cret"}, "custom_headers": {"X-Team": "data"}},
        {"compression": "gzip", "timeout": 2},
    ],
    ids=["plain", "endpoint", "auth-headers", "gzip"],
)
def test_what_floe_sends_is_what_the_client_sends(receiver: HttpReceiver, more: Any) -> None:
    from openlineage.client.transport import get_default_factory

    ours = http_transport(settings(receiver, **more))
    assert isinstance(ours, HttpTransport)
    ours.emit(EVENT)
    theirs = get_default_factory().create({**settings(receiver, **more), "retry": {"total": 0}})
    theirs.emit(EVENT)
    mine, client = receiver.requests
    assert mine.path == client.path
    for header in ("content-type", "authorization", "x-team", "content-encoding"):
        assert mine.headers.get(header) == client.headers.get(header)
    assert body(mine) == body(client) == EVENT


def test_events_reuse_one_connection_and_a_closed_one_is_renewed() -> None:
    with HttpReceiver(keep_alive=True) as receiver:
        transport = http_transport(settings(receiver))
        assert transport is not None
        receiver.respond(Answer(), Answer(headers={"Connection": "close"}), Answer())
        for _ in range(5):
            transport.emit(EVENT)
        transport.close()
    ports = [r.client_port for r in receiver.requests]
    assert len(ports) == 5
    assert ports[0] == ports[1] != ports[2] == ports[3] == ports[4]  # closed after the 2nd


def test_a_refusal_is_an_error_naming_the_status(receiver: HttpReceiver) -> None:
    transport = http_transport(settings(receiver))
    assert transport is not None
    receiver.respond(Answer(status=401, body=b'{"error": "no"}'))
    with pytest.raises(PostError, match="HTTP 401"):
        transport.emit(EVENT)


@pytest.mark.parametrize(
    "more",
    [
        {"auth": {"type": "jwt", "apiKey": "k", "tokenEndpoint": "http://127.0.0.1:9/t"}},
        {"retry": {"total": 3}},
        {"sslContext": {"cafile": "/x"}},
        {"compression": "zstd"},
    ],
    ids=["jwt", "retry", "ssl-context", "unknown-compression"],
)
def test_settings_floe_does_not_honour_go_to_the_client(receiver: HttpReceiver, more: Any) -> None:
    assert http_transport(settings(receiver, **more)) is None


def test_the_emitter_takes_floes_transport_for_plain_http(receiver: HttpReceiver) -> None:
    emitter = lineage_emitter({"transport": settings(receiver)})
    assert emitter is not None
    assert isinstance(emitter.transport, HttpTransport)
    emitter.submit([EVENT, EVENT])
    emitter.close()
    assert emitter.sent == 2
    assert [body(r) for r in receiver.requests] == [EVENT, EVENT]


def test_other_transports_are_the_clients(tmp_path: Any) -> None:
    from openlineage.client.transport.file import FileTransport

    emitter = lineage_emitter(
        {"transport": {"type": "file", "log_file_path": str(tmp_path / "events.jsonl")}}
    )
    assert emitter is not None
    assert isinstance(emitter.transport, FileTransport)
    emitter.submit([EVENT])
    emitter.close()
    assert emitter.sent == 1


def body(request: Any) -> Any:
    raw = request.body
    if request.headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    return json.loads(raw)
