"""Standard Webhooks signatures: the receiver checks the body came from us, unaltered and fresh.

``webhook-signature`` is ``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``,
keyed with the base64-decoded part of the ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of ``body`` sent as ``message_id`` at ``timestamp``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(key: bytes, message_id: str, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, timestamped now."""
    timestamp = int(time.time())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
    }
