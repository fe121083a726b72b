"""floe's OTLP/HTTP span exporter against a receiver the test starts, its protobuf decoded by
``opentelemetry-proto`` itself: every field the SDK records, the standard ``OTEL_*``
settings, and settings it cannot export with."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from floe_core.telemetry.otlp import ConfigProblem, OTLPHttpSpanExporter, encode_spans, endpoint
from floe_core.testing.receiver import Answer, HttpReceiver


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def export_env(receiver: HttpReceiver, **extra: str) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url("").rstrip("/"), **extra}


def decode(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return request


def value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind)


def record(exporter: OTLPHttpSpanExporter) -> TracerProvider:
    resource = Resource.create({"service.name": "floe", "deployment.environment": "test"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_every_field_the_sdk_records_arrives_as_the_official_protobuf(
    receiver: HttpReceiver,
) -> None:
    exporter = OTLPHttpSpanExporter(export_env(receiver))
    provider = record(exporter)
    tracer = provider.get_tracer("floe", "9.9.9")
    remote = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("vendor", "x")]),
    )
    linked = SpanContext(0x1234, 0x5678, is_remote=False)
    attributes = {
        "text": "ünïcode",
        "yes": True,
        "count": 3,
        "negative": -2,
        "ratio": 0.25,
        "names": ("a", "b"),
        "sizes": [1, 2],
    }
    with tracer.start_as_current_span(
        "parent",
        context=set_span_in_context(NonRecordingSpan(remote)),
        kind=SpanKind.SERVER,
        links=[Link(linked, {"why": "batch"})],
        attributes=attributes,
    ) as parent:
        parent.add_event("retry", {"attempt": 2})
        with tracer.start_as_current_span("child") as child:
            child.set_status(Status(StatusCode.ERROR, "3 rows late"))
    provider.shutdown()

    spans = []
    for request in receiver.requests:
        assert request.path == "/v1/traces"
        assert request.headers["content-type"] == "application/x-protobuf"
        [resource_spans] = decode(request.body).resource_spans
        resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
        assert resource["service.name"] == "floe"
        assert resource["deployment.environment"] == "test"
        [scope_spans] = resource_spans.scope_spans
        assert (scope_spans.scope.name, scope_spans.scope.version) == ("floe", "9.9.9")
        spans += list(scope_spans.spans)
    by_name = {s.name: s for s in spans}
    parent_pb, child_pb = by_name["parent"], by_name["child"]
    context = parent.get_span_context()
    assert parent_pb.trace_id == remote.trace_id.to_bytes(16, "big")
    assert parent_pb.span_id == context.span_id.to_bytes(8, "big")
    assert parent_pb.parent_span_id == remote.span_id.to_bytes(8, "big")
    assert parent_pb.trace_state == "vendor=x"
    assert parent_pb.kind == parent_pb.SPAN_KIND_SERVER
    assert parent_pb.flags == 0x300  # the parent's remoteness is known, and it is remote
    assert child_pb.flags == 0x100
    assert child_pb.kind == child_pb.SPAN_KIND_INTERNAL
    assert child_pb.parent_span_id == parent_pb.span_id
    assert {a.key: value(a.value) for a in parent_pb.attributes} == {
        **attributes,
        "names": ["a", "b"],
        "sizes": [1, 2],
    }
    assert 0 < parent_pb.start_time_unix_nano <= child_pb.start_time_unix_nano
    assert child_pb.end_time_unix_nano <= parent_pb.end_time_unix_nano
    [event] = parent_pb.events
    assert event.name == "retry"
    assert {a.key: value(a.value) for a in event.attributes} == {"attempt": 2}
    assert event.time_unix_nano >= parent_pb.start_time_unix_nano
    [link] = parent_pb.links
    assert link.trace_id == (0x1234).to_bytes(16, "big")
    assert link.span_id == (0x5678).to_bytes(8, "big")
    assert {a.key: value(a.value) for a in link.attributes} == {"why": "batch"}
    assert child_pb.status.code == child_pb.status.STATUS_CODE_ERROR
    assert child_pb.status.message == "3 rows late"
    assert parent_pb.status.code == parent_pb.status.STATUS_CODE_UNSET
    assert exporter.exported == 2


def test_headers_gzip_and_the_traces_endpoint_are_the_standard_variables(
    receiver: HttpReceiver,
) -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/ignored",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url("/custom/traces"),
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret, X-Team=data",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
    }
    provider = record(OTLPHttpSpanExporter(environ))
    with provider.get_tracer("floe").start_as_current_span("one"):
        pass
    provider.shutdown()
    [request] = receiver.requests
    assert request.path == "/custom/traces"
    assert request.headers["api-key"] == "s=cret"
    assert request.headers["x-team"] == "data"
    assert request.headers["content-encoding"] == "gzip"
    [span] = decode(gzip.decompress(request.body)).resource_spans[0].scope_spans[0].spans
    assert span.name == "one"


def test_the_endpoint_gets_the_traces_path_unless_it_is_the_traces_one() -> None:
    assert endpoint({}) == "http://localhost:4318/v1/traces"
    assert endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    assert endpoint({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/t"}) == "http://c/t"


def test_the_connection_is_kept_alive_and_renewed_when_the_server_closes_it() -> None:
    with HttpReceiver(keep_alive=True) as receiver:
        exporter = OTLPHttpSpanExporter(export_env(receiver))
        provider = record(exporter)
        tracer = provider.get_tracer("floe")
        # The server closes the connection after the second export: the third reconnects.
        receiver.respond(Answer(), Answer(headers={"Connection": "close"}), Answer())
        for name in ("first", "second", "third", "fourth"):
            with tracer.start_as_current_span(name):
                pass
        provider.shutdown()
    assert exporter.exported == 4
    assert exporter.failures == 0
    ports = [r.client_port for r in receiver.requests]
    assert ports[0] == ports[1] != ports[2] == ports[3]


@pytest.mark.parametrize(
    ("name", "setting", "says"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", "gzip or none"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", "milliseconds"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "just-a-token", "key=value"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "http(s) URL"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nowhere/ca.pem", "readable PEM"),
    ],
)
def test_settings_floe_cannot_export_with_say_what_to_change(
    name: str, setting: str, says: str
) -> None:
    with pytest.raises(ConfigProblem, match=says.replace("(", r"\(").replace(")", r"\)")):
        OTLPHttpSpanExporter({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", name: setting})


def test_a_bad_setting_is_one_warning_and_the_run_goes_on_untraced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from floe_core.telemetry import tracing

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with caplog.at_level(logging.WARNING):
        assert tracing.configure_from_env() is None
    [warning] = caplog.records
    assert "traces are not exported" in warning.getMessage()


def test_a_collector_that_hangs_fails_the_export_after_the_timeout(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.respond(Answer(delay=5.0))
    exporter = OTLPHttpSpanExporter(export_env(receiver, OTEL_EXPORTER_OTLP_TIMEOUT="200"))
    span = _finished_span()
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="floe_core.telemetry.otlp"):
        assert exporter.export([span]) is SpanExportResult.FAILURE
        assert exporter.export([span]) is SpanExportResult.FAILURE
    assert time.monotonic() - started < 1.5
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.WARNING, logging.DEBUG]  # said once
    assert "said once" in caplog.records[0].getMessage()


def test_secrets_in_the_endpoint_stay_out_of_the_warning(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://user:hunter2@127.0.0.1:{closed_port}"
    exporter = OTLPHttpSpanExporter({"OTEL_EXPORTER_OTLP_ENDPOINT": url})
    with caplog.at_level(logging.WARNING):
        assert exporter.export([_finished_span()]) is SpanExportResult.FAILURE
    assert "hunter2" not in caplog.text
    assert "traces could not be exported" in caplog.text


def test_encoding_nothing_is_an_empty_request() -> None:
    assert encode_spans([]) == b""
    assert list(decode(b"").resource_spans) == []


def _finished_span() -> Any:
    spans: list[Any] = []

    class Keep(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            spans.append(span)

    provider = TracerProvider()
    provider.add_span_processor(Keep(OTLPHttpSpanExporter({})))
    with provider.get_tracer("floe").start_as_current_span("one"):
        pass
    return spans[0]


def test_the_console_exporter_writes_spans_to_stderr_not_stdout() -> None:
    import subprocess
    import sys

    code = (
        "from floe_core.telemetry import tracing\n"
        "export = tracing.configure_from_env()\n"
        "with tracing.contract_run('orders', '1.0.0'):\n"
        "    print('report')\n"
        "export.shutdown()\n"
    )
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "console"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "report\n"
    assert '"name": "floe.contract.run"' in done.stderr


def test_an_exporter_floe_does_not_have_is_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from floe_core.telemetry import tracing

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with caplog.at_level(logging.WARNING):
        assert tracing.configure_from_env() is None
    [warning] = caplog.records
    assert "zipkin" in warning.getMessage()
    assert "otlp and console" in warning.getMessage()
