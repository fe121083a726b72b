"""Helpers for the tests that run ``floe sla monitor`` as a real process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType, TimestamptzType

from floe_core.testing.iceberg import catalog_config
from floe_core.testing.receiver import HttpReceiver
from tests._factories import odcs, table_object

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "updated_at", TimestamptzType()),
    NestedField(3, "status", StringType()),
)
PROPERTIES = [
    {"name": "id", "logicalType": "integer", "required": True},
    {"name": "updated_at", "logicalType": "timestamp"},
    {"name": "status", "logicalType": "string"},
]
FLOE = str(Path(sys.executable).parent / "floe")
INTERVALS = {
    "freshness_minutes": 0.02,  # 1.2 s
    "schema_drift_minutes": 0.02,
    "quality_minutes": 0.05,
    "availability_minutes": 0.02,
}


def contract(name: str, table: str) -> dict[str, Any]:
    return odcs(
        table_object(table, PROPERTIES, name=name),
        name=name,
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": f"{name}.updated_at"}],
    )


def append(catalog: Any, identifier: str, age: timedelta) -> None:
    table = catalog.load_table(identifier)
    at = datetime.now(UTC) - age
    rows = {"id": [1, 2], "updated_at": [at, at], "status": ["a", "b"]}
    table.append(pa.table(rows, schema=table.schema().as_arrow()))


class Monitor:
    """A ``floe sla monitor`` process, its log lines (JSON) and its HTTP address."""

    def __init__(self, cwd: Path, manifest: Path, env: dict[str, str]) -> None:
        self.log = cwd / f"monitor-{time.monotonic_ns()}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [FLOE, "sla", "monitor", "--manifest", str(manifest), "--port", "0",
                 "--log-format", "json", "--grace-seconds", "10"],
                cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self.lines():
                found = re.search(r"http://127\.0\.0\.1:\d+", line.get("message", ""))
                if found:
                    return found.group(0)
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"the monitor did not start:\n{self.log.read_text()}")

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"message": line})
        return out

    def runs(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "floe.check.status" in line]

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout)


def metrics(monitor: Monitor) -> dict[str, list[Any]]:
    families = text_string_to_metric_families(monitor.get("/metrics").text)
    return {family.name: family.samples for family in families}


def wait_until(condition: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def floe_cli(env: dict[str, str], cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOE, *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def write_manifest(path: Path, warehouse: Path, receiver: HttpReceiver | None) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {"catalog": {"type": "sql", "config": catalog_config(warehouse)}},
        "data_contracts": {"monitoring": {"check_intervals": INTERVALS}},
    }
    if receiver is not None:
        doc["plugins"]["alert_channels"] = [
            {"name": "hook", "type": "webhook", "config": {"url": receiver.url("/alerts")}}
        ]
        doc["data_contracts"]["monitoring"]["alerts"] = {
            "routing_rules": [{"channel_name": "hook", "min_severity": "warning"}]
        }
    path.write_text(yaml.safe_dump(doc))
    return path
