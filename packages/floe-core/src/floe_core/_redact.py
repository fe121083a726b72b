"""Keep credentials out of messages: URLs lose their passwords, known secret keys their values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):[^/\s@]*@"
)
_SECRET_KEY = re.compile(r"(secret|password|passwd|token|credential|key|auth)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL masked."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)


def redact_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` safe to show: secret-looking values masked, URLs redacted."""
    safe: dict[str, Any] = {}
    for key, value in config.items():
        if _SECRET_KEY.search(key):
            safe[key] = "***"
        elif isinstance(value, str):
            safe[key] = redact(value)
        elif isinstance(value, Mapping):
            safe[key] = redact_config(value)
        else:
            safe[key] = value
    return safe
