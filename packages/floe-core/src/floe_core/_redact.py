"""Keep credentials out of messages (URL passwords, secret query values, known secret values),
and keep a driver's multi-line message readable on one line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):[^/\s@]*@"
)
_SECRET_KEY = re.compile(r"(secret|password|passwd|token|credential|key|auth)", re.IGNORECASE)
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&][^=&\s]*(?:secret|password|passwd|token|credential|key|auth)[^=&\s]*)=[^&\s]*",
    re.IGNORECASE,
)
# Very short values would mask unrelated text; they are not worth hiding.
_MIN_SECRET_LENGTH = 4


def one_line(text: str) -> str:
    """``text`` on one line, its lines joined as sentences.

    Drivers write messages over several lines ("Connection refused\n\tIs the server
    running...?"): a line that does not end a sentence gets a full stop before the next.
    SQLAlchemy's "(Background on this error at: ...)" footer is dropped.
    """
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("(Background on this error")]
    joined = ""
    for line in lines:
        if joined and joined[-1] not in ".!?:;,":
            joined += "."
        joined = f"{joined} {line}" if joined else line
    return joined


def error_line(exc: BaseException) -> str:
    """An exception as one line, ``Type: message``, secrets masked. A SQLAlchemy error is
    told by the driver's own error it wraps (its ``orig``), without the SQL or parameters."""
    cause = getattr(exc, "orig", None) or exc
    text = one_line(str(cause))
    return redact(f"{type(cause).__name__}: {text}" if text else type(cause).__name__)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, secret-looking query values and ``secrets`` masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    return _SECRET_QUERY.sub(r"\g<name>=***", text)


def is_secret_key(name: str) -> bool:
    """Whether a config key names a secret (``apiKey``, ``password``, ``client_secret``...)."""
    return _SECRET_KEY.search(name) is not None


def secret_values(config: Mapping[str, Any]) -> set[str]:
    """Values of secret-looking keys, and the passwords and secret query values of URLs."""
    found: set[str] = set()
    for key, value in config.items():
        if isinstance(value, Mapping):
            found |= secret_values(value)
            continue
        if not isinstance(value, str):
            continue
        if _SECRET_KEY.search(str(key)):
            found.add(value)
        if "://" in value:
            parts = urlsplit(value)
            if parts.password:
                found.add(parts.password)
            for pair in parts.query.split("&"):
                name, _, secret = pair.partition("=")
                if _SECRET_KEY.search(name):
                    found.add(secret)
    return found
