"""AlertChannelPlugin and the built-in ``log`` channel, found as a third party's would be."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from floe_core import AlertChannelPlugin, ResolvedNotice, get_registry
from floe_core.errors import PluginError, PluginNotFoundError
from floe_core.events import ContractViolationEvent, ViolationSeverity, ViolationType
from floe_core.plugins.log_channel import LogAlertChannel
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from tests._factories import T0, violation

HOOK = "https://hooks.example/T000/B000/s3cr3t-path"


class HookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SecretStr
    channel: str = "#data"
    timeout_seconds: float = 5.0


class RecordingChannel(AlertChannelPlugin):
    """A channel that keeps what it is sent and accepts all but events named in ``refuse``."""

    name = "recording"
    version = "1.0"
    floe_api_version = "1.0"
    refuse: ClassVar[set[str]] = {"refused"}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.sent: list[ContractViolationEvent] = []

    @classmethod
    def get_config_schema(cls) -> type[HookConfig]:
        return HookConfig

    def validate_config(self) -> list[str]:
        return self.config_problems()

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        self.sent.append(event)
        return event.element not in self.refuse


def test_the_log_channel_is_registered_through_the_entry_point_group() -> None:
    registry = PluginRegistry()  # what is installed, floe-core's own entry points included
    assert "log" in registry.names(PluginType.ALERT_CHANNEL)
    assert registry.get(PluginType.ALERT_CHANNEL, "log") is LogAlertChannel
    assert get_registry().get(PluginType.ALERT_CHANNEL, "log") is LogAlertChannel


def test_an_unknown_channel_names_the_distribution_to_install() -> None:
    with pytest.raises(PluginNotFoundError) as info:
        PluginRegistry().get(PluginType.ALERT_CHANNEL, "slak")
    message = str(info.value)
    assert "Alert channel plugin 'slak' not found in entry-point group floe.alert_channels" in (
        message
    )
    assert "pip install floe-alert-slak" in message
    assert "log" in message.split("Installed: ")[1].rstrip(".").split(", ")


def test_the_log_channel_logs_each_event_at_its_severity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = LogAlertChannel({"logger": "floe.alerts.test"})
    assert channel.validate_config() == []
    events = [
        violation(T0, ViolationSeverity.WARNING, element="updated_at"),
        violation(T0, ViolationSeverity.CRITICAL, ViolationType.SCHEMA_DRIFT, element="amount"),
    ]
    with caplog.at_level(logging.INFO, logger="floe.alerts.test"):
        assert asyncio.run(channel.send_alerts(events)) is True
    records = [r for r in caplog.records if r.name == "floe.alerts.test"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.CRITICAL]
    assert records[1].getMessage() == (
        "CRITICAL schema_drift of contract orders 1.2.0: schema_drift critical"
    )
    fields = records[0].floe_alert  # type: ignore[attr-defined]
    assert fields["element"] == "updated_at"
    assert fields["affected_consumers"] == ["finance-dashboard"]


def test_the_log_channel_logs_resolved_notices(caplog: pytest.LogCaptureFixture) -> None:
    notice = ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=ViolationType.FRESHNESS,
        alerted_at=T0,
        resolved_at=T0 + timedelta(minutes=15),
        message="sales.orders is fresh again",
    )
    with caplog.at_level(logging.INFO, logger="floe.alerts"):
        assert asyncio.run(LogAlertChannel().send_resolved(notice)) is True
    [record] = [r for r in caplog.records if r.name == "floe.alerts"]
    assert record.getMessage() == (
        "RESOLVED freshness of contract orders 1.2.0: sales.orders is fresh again"
    )


def test_config_problems_name_each_bad_field() -> None:
    assert LogAlertChannel({"logger": "", "level": "debug"}).validate_config() == [
        "config.logger: String should have at least 1 character",
        "config.level: Extra inputs are not permitted",
    ]
    problems = RecordingChannel({"timeout_seconds": "soon"}).validate_config()
    assert problems == [
        "config.url: Field required",
        "config.timeout_seconds: Input should be a valid number, unable to parse string as a "
        "number",
    ]
    with pytest.raises(PluginError, match="config of alert channel 'recording' is invalid"):
        RecordingChannel({}).settings()


def test_by_default_a_group_is_one_send_alert_per_event_and_nothing_is_resolved() -> None:
    channel = RecordingChannel({"url": HOOK})
    events = [violation(T0, element="a"), violation(T0, element="refused")]
    assert asyncio.run(channel.send_alerts(events)) is False  # one of two refused
    assert [e.element for e in channel.sent] == ["a", "refused"]
    assert asyncio.run(channel.send_alerts(events[:1])) is True
    notice = ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=ViolationType.FRESHNESS,
        alerted_at=T0,
        resolved_at=T0,
        message="over",
    )
    assert asyncio.run(channel.send_resolved(notice)) is False
    assert RecordingChannel.deduplicates_itself is False


def test_scrub_masks_secret_fields_and_secret_looking_keys() -> None:
    channel = RecordingChannel({"url": HOOK, "channel": "#data", "api_token": "tok-12345"})
    text = f"POST {HOOK} failed; token tok-12345; channel #data"
    assert channel.scrub(text) == "POST *** failed; token ***; channel #data"
    # An invalid config is reported by field, never with its values.
    with pytest.raises(PluginError) as info:
        channel.settings()
    assert "config.api_token: Extra inputs are not permitted" in str(info.value)
    assert "tok-12345" not in str(info.value)
    settings = RecordingChannel({"url": HOOK}).settings()
    assert settings.url.get_secret_value() == HOOK
    assert HOOK not in repr(settings)


def test_a_secret_urls_path_and_decoded_password_are_secrets_on_their_own() -> None:
    url = "https://floe:p%40ss-word@HOOKS.example/T0/B0/s3cr3t?sig=abc"
    channel = RecordingChannel({"url": url})
    assert {url, "/T0/B0/s3cr3t?sig=abc", "/T0/B0/s3cr3t", "p@ss-word"} <= channel.secrets()
    logged = "POST https://hooks.example/T0/B0/s3cr3t?sig=abc as floe:p@ss-word failed"
    assert channel.scrub(logged) == "POST https://hooks.example*** as floe:*** failed"
