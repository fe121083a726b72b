"""No configured secret reaches any output: log lines, errors, JSON, tables, events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from floe_core.testing.iceberg import catalog_config, create_table
from floe_core.testing.receiver import Answer, HttpReceiver
from tests._factories import odcs, table_object

HOOK_PATH = "T0001/B0002/hookS3cretPath"
SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ROUTING_KEY = "pdR0utingKey0123456789abcdef"
SMTP_PASSWORD = "smtpPassw0rd!"
AM_PASSWORD = "amPassw0rd"
SECRETS = [
    HOOK_PATH,
    SIGNING,
    SIGNING.removeprefix("whsec_"),
    ROUTING_KEY,
    SMTP_PASSWORD,
    AM_PASSWORD,
]


@pytest.fixture
def drifted(catalog: Any, write_contract: Callable[..., Path]) -> Path:
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    create_table(catalog, "sales.orders", schema).append(pa.table({"id": [1]}, schema=schema))
    columns = [
        {"name": "id", "logicalType": "integer", "required": True},
        {"name": "gone", "logicalType": "string"},
    ]
    return write_contract(odcs(table_object("sales.orders", columns)))


def test_secrets_stay_out_of_every_output(
    drifted: Path, tmp_path: Path, warehouse: Path, floe: Callable[..., Any], closed_port: int
) -> None:
    with HttpReceiver() as failing:
        failing.respond(Answer(500, body=f'{{"echo": "{ROUTING_KEY}"}}'.encode()))
        channels = [
            {
                "name": "hook",
                "type": "webhook",
                "send_resolved": True,
                "config": {"url": failing.url(f"/{HOOK_PATH}"), "secret": SIGNING},
            },
            {
                "name": "chat",
                "type": "slack",
                "config": {"webhook_url": f"http://127.0.0.1:{closed_port}/services/{HOOK_PATH}"},
            },
            {
                "name": "pager",
                "type": "pagerduty",
                "config": {"routing_key": ROUTING_KEY, "events_url": failing.url("/v2/enqueue")},
            },
            {
                "name": "mail",
                "type": "email",
                "config": {
                    "host": "127.0.0.1",
                    "port": closed_port,
                    "security": "none",
                    "username": "floe",
                    "password": SMTP_PASSWORD,
                    "from_address": "floe@example.com",
                    "to_addresses": ["oncall@example.com"],
                    "timeout_seconds": 2,
                },
            },
            {
                "name": "am",
                "type": "alertmanager",
                "config": {"url": f"http://floe:{AM_PASSWORD}@127.0.0.1:{closed_port}"},
            },
        ]
        manifest = tmp_path / "secrets.yaml"
        manifest.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "floe.dev/v1",
                    "kind": "Manifest",
                    "plugins": {
                        "catalog": {"type": "sql", "config": catalog_config(warehouse)},
                        "alert_channels": channels,
                    },
                    "data_contracts": {
                        "monitoring": {
                            "alerts": {
                                "routing_rules": [
                                    {"channel_name": c["name"], "min_severity": "info"}
                                    for c in channels
                                ]
                            }
                        }
                    },
                }
            )
        )
        outputs = []
        for fmt in ("json", "table"):
            result = floe(
                "-vv",
                "sla",
                "check",
                drifted,
                "--manifest",
                manifest,
                "--alert",
                "--check",
                "schema_drift",
                "--format",
                fmt,
            )
            assert result.exit_code == 1, result.stdout + result.stderr
            outputs += [result.stdout, result.stderr]
            assert "failed" in result.stdout
        commands = [
            ("sla", "channels", "--format", "json", "--manifest", manifest),
            ("sla", "channels", "--manifest", manifest),
            *[
                ("sla", "channels", "test", name, "--manifest", manifest)
                for name in ("hook", "pager", "mail", "am")
            ],
            ("sla", "history", "orders", "--format", "json"),
            ("sla", "history", "orders"),
        ]
        for command in commands:
            result = floe("-vv", *command)
            outputs += [result.stdout, result.stderr]
        assert failing.requests, "the failing receiver was called"
    everything = "\n".join(outputs)
    leaked = [secret for secret in SECRETS if secret in everything]
    assert leaked == [], f"secrets in the output: {leaked}"
