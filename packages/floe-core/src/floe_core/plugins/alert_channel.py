"""AlertChannelPlugin: where floe delivers the violations it finds (Slack, a webhook, email...).

Entry point group: ``floe.alert_channels``. The manifest configures channels by name under
``plugins.alert_channels``; the router hands each the events its routing rules select.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr, ValidationError

from floe_core._redact import redact, secret_values
from floe_core._yaml import format_path
from floe_core.errors import PluginError
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.metadata import HealthState, HealthStatus, PluginMetadata

log = logging.getLogger(__name__)
#: How long a delivery may take unless the channel's config says ``timeout_seconds``.
DEFAULT_TIMEOUT_SECONDS = 10.0


class AlertChannelPlugin(PluginMetadata):
    """A channel alerts are delivered through. Subclasses implement ``send_alert``.

    Delivery is fire-and-forget: a channel reports failure by returning False (after logging
    why, with its secrets scrubbed), never by raising, and never retries on its own.
    """

    #: Whether the channel deduplicates, groups and silences by itself (as Alertmanager does):
    #: the router then sends it every firing violation, without its own dedup and rate limit.
    deduplicates_itself: ClassVar[bool] = False

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})

    @abstractmethod
    async def send_alert(self, event: ContractViolationEvent) -> bool:
        """Deliver one violation; True when the receiver accepted it."""

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """UNHEALTHY when the config is invalid; otherwise HEALTHY, the endpoint unprobed (only
        a real alert tests a webhook). A channel that can ask its server overrides this."""
        problems = self.validate_config()
        if problems:
            return HealthStatus(HealthState.UNHEALTHY, "config is invalid: " + "; ".join(problems))
        return HealthStatus(
            HealthState.HEALTHY,
            "config is valid; the endpoint is not probed, as only a real alert would test it",
            {"probed": False},
        )

    def validate_config(self) -> list[str]:
        """What is wrong with ``config``, one sentence each; empty when it is valid.

        By default, ``config`` checked against ``get_config_schema()``; override to add checks
        a schema cannot make.
        """
        return self.config_problems()

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        """Deliver the violations of one contract run as one notification, where the channel
        can; by default one ``send_alert`` each. True when every one was accepted."""
        delivered = [await self.send_alert(event) for event in events]
        return all(delivered)

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        """Say that an alerted violation is over; True when delivered (by default nothing is)."""
        return False

    @property
    def timeout_seconds(self) -> float:
        """The time one delivery may take, all of it (``config.timeout_seconds``)."""
        try:
            return float(self.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        except (TypeError, ValueError):
            return DEFAULT_TIMEOUT_SECONDS  # validate_config says what is wrong with it

    async def aclose(self) -> None:
        """Release what the channel holds open (a client, a connection); safe to call twice."""

    def config_problems(self) -> list[str]:
        """``config`` checked against ``get_config_schema()``: one sentence per bad field."""
        schema = self.get_config_schema()
        if schema is None:
            return []
        try:
            schema.model_validate(self.config)
        except ValidationError as exc:
            return [
                f"config.{format_path(error['loc'])}: {error['msg']}"
                if error["loc"]
                else f"config: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            ]
        return []

    def settings(self) -> Any:
        """``config`` parsed by ``get_config_schema()``; a ``PluginError`` when it is invalid."""
        schema = self.get_config_schema()
        if schema is None:
            return None
        problems = self.config_problems()
        if problems:
            raise PluginError(
                f"config of alert channel '{self.name}' is invalid: {'; '.join(problems)}"
            )
        return schema.model_validate(self.config)

    def usable_settings(self) -> Any:
        """``settings()``, or None, with one warning (secrets masked), when the config is
        invalid: a channel reports a failed delivery rather than raise."""
        try:
            return self.settings()
        except PluginError as exc:
            log.warning(
                "alert channel %s: nothing sent: %s",
                self.name,
                self.scrub(str(exc)),
                extra={"channel": self.name},
            )
            return None

    def secrets(self) -> set[str]:
        """Every secret value in ``config`` (``SecretStr`` fields, secret-looking keys, URL
        passwords), and of a secret URL the parts a log line may hold on their own: its path
        and query, its password percent-decoded."""
        found = secret_values(self.config)
        schema = self.get_config_schema()
        if schema is not None:
            for name, field in schema.model_fields.items():
                value = self.config.get(name)
                if field.annotation in (SecretStr, SecretStr | None) and value:
                    found.add(
                        value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                    )
        return found | {form for value in found for form in _url_forms(value)}

    def scrub(self, text: str) -> str:
        """``text`` safe to log or show: every secret of the channel's config masked."""
        return redact(text, self.secrets())


def _url_forms(value: str) -> set[str]:
    """The parts of a secret URL a message may hold on their own: its path and query (which
    survive however a client respells the host), its password decoded."""
    if "://" not in value:
        return set()
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return set()
    forms = {unquote(password)} if password else set()
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(parts.path) > 1:
        forms |= {tail, parts.path}
    return forms
