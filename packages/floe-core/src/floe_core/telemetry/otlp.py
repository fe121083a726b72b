"""OTLP/HTTP export of spans, encoded here: ``ExportTraceServiceRequest`` in protobuf.

An SDK ``SpanExporter`` that writes the OTLP trace protobuf (opentelemetry-proto's
``trace/v1`` and ``collector/trace/v1``) byte by byte and POSTs it over a kept-alive
``http.client`` connection. The official exporter does the same through ``requests`` and
the protobuf runtime; loading those costs a one-off ``floe sla check`` about 50 ms, more
than the whole budget tracing has (5% of a check), and each of its posts costs a monitor
more CPU than a check's four spans. The wire format is OTLP 1.x, stable; the tests decode
what arrives with ``opentelemetry-proto`` itself.

Configured by the standard variables, as the official exporter reads them:
``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT`` (the base endpoint gets ``/v1/traces``; the traces
one is used as is), ``_HEADERS`` (``k=v,k2=v2``, values URL-encoded), ``_TIMEOUT``
(milliseconds, as the specification says), ``_COMPRESSION`` (``gzip`` or ``none``),
``_CERTIFICATE``, ``_CLIENT_CERTIFICATE`` and ``_CLIENT_KEY``. Only
``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL=http/protobuf`` is spoken.
"""

from __future__ import annotations

import logging
import os
import ssl
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from floe_core._http import Poster, PostError
from floe_core._redact import one_line, redact

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "http://localhost:4318"
PROTOBUF = "application/x-protobuf"
#: How long one export may take when no ``OTEL_*`` timeout says (the exporters' own default
#: is 10 s, which a one-off ``floe sla check`` would wait at exit for a collector that hangs).
DEFAULT_TIMEOUT_SECONDS = 2.0


class ConfigProblem(Exception):
    """An ``OTEL_*`` setting floe cannot export with (the message says which and why)."""


def env(name: str, environ: Mapping[str, str], signal: str = "TRACES") -> str:
    """The signal's own variable if set, else the general one (``OTEL_EXPORTER_OTLP_*``)."""
    return (
        environ.get(f"OTEL_EXPORTER_OTLP_{signal}_{name}", "").strip()
        or environ.get(f"OTEL_EXPORTER_OTLP_{name}", "").strip()
    )


def endpoint(environ: Mapping[str, str], signal: str = "TRACES") -> str:
    """Where a signal goes: its own endpoint as is (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``),
    else the base one with ``/v1/traces`` (``/v1/metrics``), as the specification says."""
    own = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip()
    if own:
        return own
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or DEFAULT_ENDPOINT
    return f"{base.rstrip('/')}/v1/{signal.lower()}"


class OTLPHttpSpanExporter(SpanExporter):
    """Spans to an OTLP/HTTP collector; a failure is one WARNING, then DEBUG (counted)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        protocol = env("PROTOCOL", environ).lower()
        if protocol and protocol != "http/protobuf":
            raise ConfigProblem(
                f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} asks for an OTLP transport floe does "
                "not speak: it exports over http/protobuf. Unset it or set http/protobuf, and "
                "point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port (4318)"
            )
        compression = env("COMPRESSION", environ).lower() or "none"
        if compression not in ("gzip", "none"):
            raise ConfigProblem(
                f"OTEL_EXPORTER_OTLP_COMPRESSION={compression} is not one floe knows: use "
                "gzip or none"
            )
        self.url = endpoint(environ)
        headers = _headers(env("HEADERS", environ))
        timeout = timeout_seconds(env("TIMEOUT", environ))
        context = _ssl_context(environ)
        try:
            self.poster = Poster(
                self.url,
                headers=headers,
                timeout=timeout,
                gzip_body=compression == "gzip",
                ssl_context=context,
            )
        except ValueError as exc:
            raise ConfigProblem(
                f"the OTLP traces endpoint {redact(self.url)!r} is not an http(s) URL: set "
                "OTEL_EXPORTER_OTLP_ENDPOINT to one such as http://collector:4318"
            ) from exc
        self.failures = 0
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self.poster.post(encode_spans(spans), PROTOBUF)
        except PostError as exc:
            self.failures += 1
            log.log(
                logging.WARNING if self.failures == 1 else logging.DEBUG,
                "%s",
                redact(
                    f"traces could not be exported to {self.url}: {one_line(str(exc))} (said "
                    "once; the checks are not affected)"
                ),
            )
            return SpanExportResult.FAILURE
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.poster.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _headers(raw: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``key=value`` pairs, comma-separated, values URL-encoded."""
    headers = {}
    for pair in raw.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            if pair.strip():
                raise ConfigProblem(
                    "OTEL_EXPORTER_OTLP_HEADERS holds an entry that is not key=value: write "
                    "it as api-key=secret,x-team=data"
                )
            continue
        headers[key.strip().lower()] = unquote(value.strip())
    return headers


def timeout_seconds(raw: str, default: float = DEFAULT_TIMEOUT_SECONDS) -> float:
    """``OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT`` in milliseconds, as seconds; ``default`` unset."""
    if not raw:
        return default
    try:
        milliseconds = float(raw)
    except ValueError:
        raise ConfigProblem(
            f"OTEL_EXPORTER_OTLP_TIMEOUT={raw} is not a number of milliseconds: write e.g. 2000"
        ) from None
    if milliseconds <= 0:
        raise ConfigProblem(f"OTEL_EXPORTER_OTLP_TIMEOUT={raw} must be above 0 milliseconds")
    return milliseconds / 1000


def _ssl_context(environ: Mapping[str, str]) -> ssl.SSLContext | None:
    ca, cert, key = (env(n, environ) for n in ("CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"))
    if not (ca or cert):
        return None
    try:
        context = ssl.create_default_context(cafile=ca or None)
        if cert:
            context.load_cert_chain(cert, key or None)
    except OSError as exc:  # FileNotFoundError, ssl.SSLError
        raise ConfigProblem(
            f"the OTLP certificate settings could not be loaded ({type(exc).__name__}: "
            f"{one_line(str(exc))}): check OTEL_EXPORTER_OTLP_CERTIFICATE, "
            "_CLIENT_CERTIFICATE and _CLIENT_KEY name readable PEM files"
        ) from exc
    return context


# The protobuf encoding ------------------------------------------------------------------------
# Field numbers from opentelemetry-proto (v1): ExportTraceServiceRequest.resource_spans = 1;
# ResourceSpans{resource 1, scope_spans 2, schema_url 3}; Resource{attributes 1};
# ScopeSpans{scope 1, spans 2, schema_url 3}; InstrumentationScope{name 1, version 2,
# attributes 3}; Span{trace_id 1, span_id 2, trace_state 3, parent_span_id 4,
# name 5, kind 6, start 7 (fixed64), end 8 (fixed64), attributes 9, dropped_attributes 10,
# events 11, dropped_events 12, links 13, dropped_links 14, status 15, flags 16 (fixed32)};
# Span.Event{time 1 (fixed64), name 2, attributes 3, dropped 4}; Span.Link{trace_id 1,
# span_id 2, trace_state 3, attributes 4, dropped 5, flags 6 (fixed32)}; Status{message 2,
# code 3}; KeyValue{key 1, value 2}; AnyValue{string 1, bool 2, int 3, double 4, array 5,
# kvlist 6, bytes 7}; ArrayValue{values 1}.

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200
_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_STATUS = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack
_pack_double = struct.Struct("<d").pack


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """One ``ExportTraceServiceRequest``: the spans grouped by resource, then by scope."""
    grouped: dict[int, tuple[Resource, dict[tuple[str, str], list[ReadableSpan]]]] = {}
    for span in spans:
        _, scopes = grouped.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version or "") if scope is not None else ("", "")
        scopes.setdefault(key, []).append(span)
    out = bytearray()
    for resource, scopes in grouped.values():
        body = bytearray()
        _message(body, 1, _attributes(1, resource.attributes))
        for (name, version), members in scopes.items():
            scope_spans = bytearray()
            identity = bytearray()
            _string(identity, 1, name)
            _string(identity, 2, version)
            _message(scope_spans, 1, identity)
            for span in members:
                _message(scope_spans, 2, _span(span))
            _message(body, 2, scope_spans)
        # ResourceSpans.schema_url is field 3, after the scopes.
        if resource.schema_url:
            _string(body, 3, resource.schema_url)
        _message(out, 1, body)
    return bytes(out)


def _span(span: ReadableSpan) -> bytearray:
    out = bytearray()
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    _bytes(out, 1, context.trace_id.to_bytes(16, "big"))
    _bytes(out, 2, context.span_id.to_bytes(8, "big"))
    _string(out, 3, context.trace_state.to_header() if context.trace_state else "")
    if span.parent is not None:
        _bytes(out, 4, span.parent.span_id.to_bytes(8, "big"))
    _string(out, 5, span.name)
    _varint_field(out, 6, _KIND.get(span.kind, 0))
    _tag(out, 7, _FIXED64)
    out += _pack_fixed64(span.start_time or 0)
    _tag(out, 8, _FIXED64)
    out += _pack_fixed64(span.end_time or 0)
    out += _attributes(9, span.attributes)
    _varint_field(out, 10, span.dropped_attributes)
    for event in span.events:
        encoded = bytearray()
        _tag(encoded, 1, _FIXED64)
        encoded += _pack_fixed64(event.timestamp)
        _string(encoded, 2, event.name)
        encoded += _attributes(3, event.attributes)
        _message(out, 11, encoded)
    _varint_field(out, 12, span.dropped_events)
    for link in span.links:
        encoded = bytearray()
        _bytes(encoded, 1, link.context.trace_id.to_bytes(16, "big"))
        _bytes(encoded, 2, link.context.span_id.to_bytes(8, "big"))
        _string(
            encoded, 3, link.context.trace_state.to_header() if link.context.trace_state else ""
        )
        encoded += _attributes(4, link.attributes)
        _tag(encoded, 6, _FIXED32)
        encoded += _pack_fixed32(_flags(link.context))
        _message(out, 13, encoded)
    _varint_field(out, 14, span.dropped_links)
    status = bytearray()
    _string(status, 2, span.status.description or "")
    _varint_field(status, 3, _STATUS[span.status.status_code])
    _message(out, 15, status)
    _tag(out, 16, _FIXED32)
    out += _pack_fixed32(_flags(span.parent))
    return out


def _flags(parent: SpanContext | None) -> int:
    """Span.flags: the parent's W3C trace flags are not carried, only whether it is remote."""
    if parent is None:
        return _HAS_IS_REMOTE
    return _HAS_IS_REMOTE | (_IS_REMOTE if parent.is_remote else 0)


def _attributes(field: int, attributes: Mapping[str, Any] | None) -> bytearray:
    out = bytearray()
    for key, value in (attributes or {}).items():
        pair = bytearray()
        _string(pair, 1, key)
        _message(pair, 2, _any(value))
        _message(out, field, pair)
    return out


def _any(value: Any) -> bytearray:
    out = bytearray()
    if isinstance(value, str):
        _bytes(out, 1, value.encode())
    elif isinstance(value, bool):
        _tag(out, 2, _VARINT)
        out.append(1 if value else 0)
    elif isinstance(value, int):
        _tag(out, 3, _VARINT)
        _varint(out, value & 0xFFFFFFFFFFFFFFFF)  # int64: two's complement, ten bytes if < 0
    elif isinstance(value, float):
        _tag(out, 4, _FIXED64)
        out += _pack_double(value)
    elif isinstance(value, bytes):
        _bytes(out, 7, value)
    elif isinstance(value, Sequence):
        array = bytearray()
        for item in value:
            _message(array, 1, _any(item))
        _message(out, 5, array)
    else:  # the SDK admits only the types above; anything else as its text
        _bytes(out, 1, str(value).encode())
    return out


def _tag(out: bytearray, field: int, wire: int) -> None:
    _varint(out, field << 3 | wire)


def _varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _varint_field(out: bytearray, field: int, value: int) -> None:
    if value:  # proto3: zero is the default and is not written
        _tag(out, field, _VARINT)
        _varint(out, value)


def _bytes(out: bytearray, field: int, value: bytes) -> None:
    _tag(out, field, _LEN)
    _varint(out, len(value))
    out += value


def _string(out: bytearray, field: int, value: str) -> None:
    if value:
        _bytes(out, field, value.encode())


def _message(out: bytearray, field: int, body: bytes | bytearray) -> None:
    _tag(out, field, _LEN)
    _varint(out, len(body))
    out += body
