"""Alert channels that deliver over HTTP: one ``httpx.AsyncClient`` each, every call bounded.

A delivery is one POST within the channel's ``timeout_seconds``, all of it (connecting,
sending, a server that answers slowly). Nothing is retried, as the design's fire-and-forget
asks, with one exception: a 429 whose ``Retry-After`` still fits in the time left is tried
once more. Every failure comes back as a ``Delivery`` whose reason has the channel's secrets
masked; nothing raises.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from floe_core.plugins._httpx_log import watch
from floe_core.plugins.alert_channel import AlertChannelPlugin

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What became of one POST: accepted or not, the HTTP status, and why not."""

    ok: bool
    status: int | None = None
    reason: str = ""  # empty when ok; a sentence with secrets masked otherwise
    attempts: int = 1


class HttpAlertChannel(AlertChannelPlugin):
    """Base of the channels that POST to an HTTP endpoint.

    Pass ``client`` (or ``transport``) to use a client of your own; tests pass
    ``httpx.MockTransport`` for edge cases and point the channel at a real local server for
    the real thing.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self._client = client
        self._transport = transport
        self._owns_client = client is None
        watch(self)  # httpx logs each request's URL, which may hold the channel's secret

    def client(self) -> httpx.AsyncClient:
        """The channel's client, made on first use."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        """Close the client the channel made (one passed in is the caller's to close)."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str] | None = None
    ) -> Delivery:
        """POST ``content`` to ``url`` within ``timeout_seconds``; a 429 retried once if its
        ``Retry-After`` fits in the time left."""
        import httpx

        timeout = self.timeout_seconds
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            try:
                async with asyncio.timeout(left):
                    response = await self.client().post(
                        url, content=content, headers=dict(headers or {}), timeout=left
                    )
            except (TimeoutError, httpx.TimeoutException):
                return self._failed(None, f"no answer within {timeout:g} s", attempt)
            except httpx.HTTPError as exc:
                return self._failed(None, f"{type(exc).__name__}: {exc}", attempt)
            status = response.status_code
            if 200 <= status < 300:
                return Delivery(True, status, "", attempt)
            if status == 429 and attempt == 1:
                wait = retry_after(response.headers.get("retry-after"))
                if wait is not None and time.monotonic() + wait < deadline:
                    await asyncio.sleep(wait)
                    continue
            return self._failed(status, f"HTTP {status} {response.reason_phrase}".strip(), attempt)

    def _failed(self, status: int | None, reason: str, attempts: int) -> Delivery:
        reason = self.scrub(reason)
        log.warning(
            "alert channel %s: delivery failed: %s",
            self.name,
            reason,
            extra={"channel": self.name, "http_status": status, "attempts": attempts},
        )
        return Delivery(False, status, reason, attempts)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if valid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
