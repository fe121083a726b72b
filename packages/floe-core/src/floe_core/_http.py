"""POSTing to one endpoint from one background thread, over a kept-alive connection.

For what floe sends in the background (OTLP spans, OpenLineage events): the standard
library's ``http.client``, so a one-off ``floe sla check`` pays about 4 ms to load it where
``requests`` or ``httpx`` cost 25 to 120 ms, and one connection is reused across posts (a
few hundred microseconds of CPU each). Not thread-safe: one ``Poster`` per sending thread.
"""

from __future__ import annotations

import gzip
import http.client
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit


class PostError(Exception):
    """A post that did not reach the endpoint or was not accepted (the message says which)."""


class Poster:
    """POSTs bodies to ``url`` with ``headers``; each call waits ``timeout`` seconds at most
    to connect and again to read the answer."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        gzip_body: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.headers = dict(headers or {})
        if gzip_body:
            self.headers["Content-Encoding"] = "gzip"
        self.gzip_body = gzip_body
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, content_type: str) -> int:
        """Send ``body``; the answer's status (2xx). Raises ``PostError`` otherwise."""
        if self.gzip_body:
            body = gzip.compress(body, compresslevel=5)
        headers = {**self.headers, "Content-Type": content_type}
        # A kept-alive connection the server has closed fails at once: reconnect, once.
        for attempt in (1, 2):
            connection = self._connection or self._connect()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (ConnectionError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2 or not _stale(exc):
                    raise PostError(f"{type(exc).__name__}: {exc}") from exc
                continue
            except OSError as exc:  # refused, unreachable, timed out, TLS
                self.close()
                raise PostError(f"{type(exc).__name__}: {exc}") from exc
            if response.will_close:
                self.close()
            if not 200 <= response.status < 300:
                raise PostError(f"HTTP {response.status} {response.reason}")
            return response.status
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            context = self.ssl_context or ssl.create_default_context()
            self._connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._connection


def _stale(exc: Exception) -> bool:
    """A reused connection the server had already closed (not a server that is down)."""
    return isinstance(
        exc,
        http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError,
    )
