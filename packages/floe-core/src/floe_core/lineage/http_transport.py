"""OpenLineage's ``http`` transport for the settings most backends need, without the client.

``openlineage-python`` costs a one-off ``floe sla check`` about 0.24 s to import (its facet
classes, attrs, requests and an async HTTP stack), half as long again as the check it would
report on, and each event it posts through ``requests`` costs about 1.3 ms of CPU. The
manifest's ``transport: {type: http, ...}`` with only the settings below is therefore sent
here: the same URL (``urljoin(url, endpoint)``), headers, body and compression as the
client's ``HttpTransport``, over one kept-alive connection. Any other setting (``jwt`` or
``oauth2`` auth, ``sslContext``, retries, an adapter) hands the whole configuration to the
client instead, so nothing it supports is lost.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from floe_core._http import Poster

#: Settings of the client's HttpConfig this transport honours, exactly as the client does.
SUPPORTED = frozenset(
    {"type", "url", "endpoint", "timeout", "verify", "auth", "compression", "custom_headers"}
)
DEFAULT_ENDPOINT = "api/v1/lineage"
DEFAULT_TIMEOUT = 5.0


class HttpTransport:
    """POSTs each event as JSON; ``emit`` raises ``floe_core._http.PostError`` on failure."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        url = str(settings["url"]).strip()
        self.url = urljoin(url, str(settings.get("endpoint") or DEFAULT_ENDPOINT))
        headers: dict[str, str] = {}
        api_key = _api_key(settings.get("auth"))
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        headers.update({str(k): str(v) for k, v in (settings.get("custom_headers") or {}).items()})
        context = None
        if settings.get("verify") is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.poster = Poster(
            self.url,
            headers=headers,
            timeout=float(settings.get("timeout") or DEFAULT_TIMEOUT),
            gzip_body=settings.get("compression") == "gzip",
            ssl_context=context,
        )

    def emit(self, event: Mapping[str, Any]) -> None:
        self.poster.post(json.dumps(event, separators=(",", ":")).encode(), "application/json")

    def close(self) -> None:
        self.poster.close()


def http_transport(settings: Mapping[str, Any]) -> HttpTransport | None:
    """floe's own transport for ``settings`` (``plugins.lineage_backend.config.transport``)
    when it is ``type: http`` with only settings it honours; else None (use the client)."""
    if settings.get("type") != "http" or not settings.get("url"):
        return None
    if set(settings) - SUPPORTED:
        return None
    auth = settings.get("auth")
    if auth and _api_key(auth) is None:
        return None
    if settings.get("compression") not in (None, "gzip"):
        return None
    if not isinstance(settings.get("custom_headers") or {}, Mapping):
        return None
    try:
        return HttpTransport(settings)
    except (ValueError, TypeError):  # a URL or timeout the client will explain better
        return None


def _api_key(auth: Any) -> str | None:
    """The key of ``auth: {type: api_key, apiKey: ...}`` (any spelling the client reads)."""
    if not isinstance(auth, Mapping) or auth.get("type") != "api_key":
        return None
    key = auth.get("apiKey") or auth.get("apikey") or auth.get("api_key")
    return str(key) if key else None
