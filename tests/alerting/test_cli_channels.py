"""``floe sla silence`` and ``floe sla channels`` on the state database and the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture
def channels_manifest(tmp_path: Path, closed_port: int) -> Path:
    path = tmp_path / "channels.yaml"
    doc = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {
            "alert_channels": [
                {"name": "ops-log", "type": "log", "send_resolved": True},
                {
                    "name": "down",
                    "type": "webhook",
                    "config": {"url": f"http://127.0.0.1:{closed_port}/s3cr3t-hook"},
                },
                {"name": "chat", "type": "slak"},
                {"name": "odd", "type": "log", "config": {"logger": ""}},
            ]
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def test_silences_are_added_listed_and_expired(floe: Callable[..., Any]) -> None:
    added = floe(
        "sla",
        "silence",
        "add",
        "--contract",
        "orders*",
        "--type",
        "freshness",
        "--duration",
        "2h",
        "--comment",
        "backfill until 14:00",
    )
    assert added.exit_code == 0, added.stderr
    silence_id = added.stdout.strip()
    assert len(silence_id) == 8

    listed = json.loads(floe("sla", "silence", "list", "--format", "json").stdout)
    [one] = listed["silences"]
    assert (one["id"], one["contract"], one["type"], one["comment"]) == (
        silence_id,
        "orders*",
        "freshness",
        "backfill until 14:00",
    )
    assert floe("sla", "silence", "expire", silence_id).exit_code == 0
    assert json.loads(floe("sla", "silence", "list", "--format", "json").stdout) == {"silences": []}
    assert silence_id in floe("sla", "silence", "list", "--all").stdout
    missing = floe("sla", "silence", "expire", "nope")
    assert missing.exit_code == 2
    assert "no silence 'nope'" in missing.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--duration", "soon"), "'soon' is not a duration"),
        (("--duration", "0h"), "must be greater than zero"),
        (("--duration", "1h", "--type", "freshnes"), "'freshnes' is not one of"),
    ],
)
def test_a_bad_silence_is_a_usage_error(
    floe: Callable[..., Any], args: tuple[str, ...], says: str
) -> None:
    options = {"--comment": "x", **dict(zip(args[::2], args[1::2], strict=True))}
    flat = [part for pair in options.items() for part in pair]
    result = floe("sla", "silence", "add", "--contract", "orders", *flat)
    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_channels_lists_types_and_configured_channels_without_secrets(
    floe: Callable[..., Any], channels_manifest: Path
) -> None:
    result = floe("sla", "channels", "--manifest", channels_manifest, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"log", "webhook"} <= set(document["installed"])
    by_name = {c["name"]: c for c in document["configured"]}
    assert by_name["ops-log"]["health"]["state"] == "healthy"
    assert by_name["ops-log"]["send_resolved"] is True
    assert by_name["chat"]["problems"] == [
        "type 'slak' is not installed: pip install floe-alert-slak"
    ]
    assert by_name["odd"]["problems"] == ["config.logger: String should have at least 1 character"]
    assert "s3cr3t-hook" not in result.stdout + result.stderr
    table = floe("sla", "channels", "--manifest", channels_manifest)
    assert "odd (log): config.logger: String should have at least 1 character" in table.stdout


@pytest.mark.parametrize(
    ("name", "code", "says"),
    [
        ("ops-log", 0, "Test alert delivered to ops-log."),
        ("down", 1, "Test alert to down failed"),
        ("nope", 2, "no alert channel named 'nope'"),
        ("odd", 2, "config.logger: String should have at least 1 character"),
    ],
)
def test_channels_test_exits_by_what_happened(
    floe: Callable[..., Any], channels_manifest: Path, name: str, code: int, says: str
) -> None:
    result = floe("sla", "channels", "test", name, "--manifest", channels_manifest)
    assert result.exit_code == code, result.stdout + result.stderr
    assert says in result.stdout + result.stderr
    assert "s3cr3t-hook" not in result.stdout + result.stderr
