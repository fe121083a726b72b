"""A real Prometheus (Debian's ``prometheus``) scrapes ``floe sla monitor``'s /metrics.

Skipped without the binary, unless ``FLOE_REQUIRE_PROMETHEUS`` is set (``.ci/run`` sets it;
``make pytest`` installs the package when it can), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from floe_core.testing.iceberg import create_table
from floe_core.testing.receiver import free_port
from tests.monitoring._process import (
    SCHEMA,
    Monitor,
    append,
    contract,
    floe_cli,
    wait_until,
    write_manifest,
)

INSTALL_HINT = "apt-get update && apt-get install -y prometheus"


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found:
        return found
    message = f"Prometheus is not installed; install it with: {INSTALL_HINT} (or make pytest)"
    if os.environ.get("FLOE_REQUIRE_PROMETHEUS"):
        pytest.fail(f"FLOE_REQUIRE_PROMETHEUS is set but {message}")
    pytest.skip(message)


def test_prometheus_scrapes_the_monitor(
    tmp_path: Path, warehouse: Path, catalog: Any, env: dict[str, str]
) -> None:
    binary = prometheus_binary()
    create_table(catalog, "sales.orders", SCHEMA)
    append(catalog, "sales.orders", timedelta(minutes=1))
    manifest = write_manifest(tmp_path / "manifest.yaml", warehouse, None)
    orders = tmp_path / "orders.yaml"
    orders.write_text(yaml.safe_dump(contract("orders", "sales.orders")))
    assert (
        floe_cli(env, tmp_path, "sla", "register", orders, "--manifest", manifest).returncode == 0
    )
    monitor = Monitor(tmp_path, manifest, env)
    target = monitor.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {"job_name": "floe", "metrics_path": "/metrics",
                     "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )  # fmt: skip
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("w") as out:
        prometheus = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api/v1"
    try:

        def series(query: str) -> list[dict[str, Any]]:
            try:
                answer = httpx.get(f"{api}/query", params={"query": query}, timeout=5).json()
            except httpx.HTTPError:
                return []
            result: list[dict[str, Any]] = answer.get("data", {}).get("result", [])
            return result

        wait_until(
            lambda: bool(series('floe_contract_checks_total{contract="orders"}')),
            timeout=60,
            what=f"Prometheus to scrape the monitor:\n{log.read_text()[-2000:]}",
        )
        targets = httpx.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"]
        checks = series('floe_contract_checks_total{contract="orders"}')
        assert {s["metric"]["type"] for s in checks} >= {"freshness", "availability"}
        assert series("floe_contract_freshness_seconds")[0]["metric"]["contract"] == "orders"
        assert series("floe_monitor_schedule_lag_seconds_count")
    finally:
        prometheus.terminate()
        prometheus.wait(20)
        assert monitor.stop() == 0
