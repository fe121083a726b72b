"""Mask alert channels' secrets in httpx's own log records.

httpx logs every request at INFO as ``HTTP Request: POST <url> ...``: for a webhook whose path
is its credential (Slack's, a generic webhook's), that line would leak it. A filter on the
``httpx`` logger masks the secrets of every live HTTP alert channel before any handler sees
the record.
"""

from __future__ import annotations

import logging
import weakref
from typing import Protocol

# Shorter values would mask unrelated text (floe-core's redact draws the same line).
_MIN_SECRET_LENGTH = 4


class _Scrubs(Protocol):
    def secrets(self) -> set[str]: ...

    def scrub(self, text: str) -> str: ...


class _ScrubChannelSecrets(logging.Filter):
    """Rewrites a record's message with the secrets of every watched channel masked.

    The secrets of all channels are masked together, longest first: masking one channel's
    short secret (a path ``/hook``) inside another's longer one (``/hooks/T1/secret``) first
    would leave the rest of the longer one to be read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.channels: weakref.WeakSet[_Scrubs] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        channels = list(self.channels)
        if not channels:
            return True
        message = scrubbed = record.getMessage()
        secrets = set[str]().union(*(channel.secrets() for channel in channels))
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= _MIN_SECRET_LENGTH:
                scrubbed = scrubbed.replace(secret, "***")
        for channel in channels:  # what each masks besides its secrets: URL passwords...
            scrubbed = channel.scrub(scrubbed)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_FILTER = _ScrubChannelSecrets()


def watch(channel: _Scrubs) -> None:
    """Mask ``channel``'s secrets in httpx's log records for as long as it lives."""
    _FILTER.channels.add(channel)
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
