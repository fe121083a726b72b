"""The ``alertmanager`` channel's config: where Alertmanager is and what every alert carries."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: The labels floe sets on every alert; configured extra labels may not replace them.
RESERVED_LABELS = frozenset({"alertname", "contract", "violation_type", "severity", "element"})
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


class AlertmanagerChannelConfig(BaseModel):
    """Settings of one Alertmanager channel (the manifest's ``config`` mapping)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The base URL, such as http://alertmanager:9093; it may carry basic-auth credentials.
    url: SecretStr
    timeout_seconds: float = Field(10, gt=0)
    labels: dict[str, str] = Field(default_factory=dict)  # added to every alert
    resolve_timeout_minutes: float = Field(15, gt=0)  # endsAt of a firing alert, from now
    generator_url: str | None = None  # the alerts' link back, such as floe's dashboard

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: SecretStr) -> SecretStr:
        # The messages never quote the URL: it may hold a password.
        check_http_url(value.get_secret_value())
        parts = urlsplit(value.get_secret_value())
        if parts.query or parts.fragment:
            raise ValueError(
                "must be Alertmanager's base URL without a query or fragment: "
                "the channel appends /api/v2/alerts to it"
            )
        return value

    @field_validator("generator_url")
    @classmethod
    def _generator_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_http_url(value)
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name, label_value in value.items():
            if not _LABEL_NAME.match(name):
                raise ValueError(
                    f"label name {name!r} is not valid in Alertmanager: use letters, digits "
                    "and _, not starting with a digit"
                )
            if name.startswith("__"):
                raise ValueError(f"label name {name!r} starts with __, which is reserved")
            if name in RESERVED_LABELS:
                raise ValueError(f"label {name!r} is set by floe itself: choose another name")
            if not label_value:
                raise ValueError(
                    f"label {name!r} has an empty value, which Alertmanager treats as no "
                    "label: give it a value or leave it out"
                )
        return value


def check_http_url(url: str) -> None:
    """Raise ValueError (with a message that does not quote ``url``) unless it is http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, such as http://127.0.0.1:9093")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
