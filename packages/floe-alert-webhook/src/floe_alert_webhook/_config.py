"""The webhook channel's config, and the Standard Webhooks signing key read from it."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: The prefix Standard Webhooks puts before a base64 signing secret.
SECRET_PREFIX = "whsec_"
# The Standard Webhooks spec recommends keys of 24 to 64 bytes (192 to 512 bits).
_KEY_BYTES = range(24, 65)
# RFC 9110 token: what a header name may be made of.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Set by the channel itself: a header of the same name in ``headers`` would corrupt or forge them.
_RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError (naming no value) if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with '{SECRET_PREFIX}' followed by a base64 key")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError(f"the part after '{SECRET_PREFIX}' must be valid base64") from None
    if len(key) not in _KEY_BYTES:
        raise ValueError(
            f"the key after '{SECRET_PREFIX}' must decode to 24 to 64 bytes, not {len(key)}; "
            'make one with: python -c "import base64, os; '
            "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
        )
    return key


class WebhookChannelConfig(BaseModel):
    """Where the events go, how they are signed, and how long a delivery may take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: SecretStr  # its path often is the credential, so it is never shown
    secret: SecretStr | None = None  # Standard Webhooks signing secret, whsec_<base64>
    headers: dict[str, str] = {}
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: SecretStr) -> SecretStr:
        problem = "must be an http:// or https:// URL with a host"
        try:
            parts = urlsplit(url.get_secret_value())
            host = parts.hostname
        except ValueError:  # its message may quote the URL: replaced by ours
            raise ValueError(problem) from None
        if parts.scheme not in ("http", "https") or not host:
            raise ValueError(problem)
        return url

    @field_validator("secret")
    @classmethod
    def _standard_webhooks_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            signing_key(secret.get_secret_value())
        return secret

    @field_validator("headers")
    @classmethod
    def _extra_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid HTTP header name")
            lowered = name.lower()
            if lowered in _RESERVED_HEADERS or lowered.startswith("ce-"):
                raise ValueError(
                    f"header '{name}' is set by the channel (CloudEvents or Standard Webhooks); "
                    "remove it from headers"
                )
            if any(char in value for char in "\r\n\0"):
                raise ValueError(f"the value of header '{name}' contains a line break or NUL")
        return headers
