"""The floe demo: build a local Iceberg warehouse under ./.floe/ and check three contracts.

    make demo          (or: .venv/bin/python examples/demo/run_demo.py)
    make demo-monitor  (or: ... run_demo.py --monitor) the same tables, then `floe sla
                       monitor` checking them every minute or so until Ctrl-C

Tables are rebuilt on every run with timestamps relative to now, in floe's embedded default
catalog (a SQLite-backed pyiceberg SQL catalog in ./.floe/), so `floe sla check` finds them
with no manifest at all:

    demo.orders     healthy: fresh, schema as contracted, quality rules hold   -> exit 0
    demo.shipments  stale (newest shipment 9h old, SLA 6h), a third of the
                    carriers missing (a warning-level quality rule)            -> exit 1
    demo.payments   drifted (a column dropped, one retyped, one added), and
                    its contract deprecated in favour of v4                    -> exit 1

Every check runs with `--alert`: the violations of warning and worse go, as CloudEvents, to a
webhook receiver the demo starts on 127.0.0.1, which prints what it got. (Run the demo again
within half an hour and the same violations are suppressed as duplicates.)
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import yaml
from pyiceberg.schema import Schema
from pyiceberg.types import (
    DecimalType,
    DoubleType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from floe_core.manifest import DEFAULT_CATALOG_NAME, DEFAULT_HOME
from floe_core.testing.iceberg import create_table, local_catalog
from floe_core.testing.receiver import HttpReceiver

HERE = Path(__file__).parent
CONTRACTS = ["orders", "shipments", "payments"]
ROWS = 5_000


def _times(rng: random.Random, newest: datetime, span: timedelta) -> list[datetime]:
    times = [newest - span * rng.random() for _ in range(ROWS - 1)]
    return [newest, *times]


def build(home: Path) -> None:
    """(Re)create the three demo tables in the embedded catalog under ``home``."""
    catalog = local_catalog(home, DEFAULT_CATALOG_NAME)
    rng = random.Random(7)
    now = datetime.now(UTC)
    ids = list(range(1, ROWS + 1))

    orders_schema = Schema(
        NestedField(1, "order_id", LongType(), required=True),
        NestedField(2, "customer_id", LongType(), required=True),
        NestedField(3, "amount", DecimalType(10, 2), required=True),
        NestedField(4, "status", StringType(), required=True),
        NestedField(5, "updated_at", TimestamptzType(), required=True),
        identifier_field_ids=[1],
    )
    orders = create_table(catalog, "demo.orders", orders_schema)
    orders.append(
        pa.table(
            {
                "order_id": ids,
                "customer_id": [rng.randint(1, 900) for _ in ids],
                "amount": [Decimal(rng.randint(100, 50_000)) / 100 for _ in ids],
                "status": [rng.choice(["placed", "paid", "shipped", "delivered"]) for _ in ids],
                "updated_at": _times(rng, now - timedelta(minutes=4), timedelta(hours=12)),
            },
            schema=orders.schema().as_arrow(),
        )
    )

    shipments_schema = Schema(
        NestedField(1, "shipment_id", StringType(), required=True),
        NestedField(2, "order_id", LongType(), required=True),
        NestedField(3, "carrier", StringType(), required=False),
        NestedField(4, "shipped_at", TimestamptzType(), required=True),
    )
    shipments = create_table(catalog, "demo.shipments", shipments_schema)
    shipments.append(
        pa.table(
            {
                "shipment_id": [f"SHP-{i:06d}" for i in ids],
                "order_id": ids,
                "carrier": [rng.choice(["DHL", "UPS", None]) for _ in ids],
                "shipped_at": _times(rng, now - timedelta(hours=9), timedelta(days=3)),
            },
            schema=shipments.schema().as_arrow(),
        )
    )

    payments_schema = Schema(
        NestedField(1, "payment_id", LongType(), required=True),
        NestedField(2, "order_id", LongType(), required=True),
        NestedField(3, "amount", DoubleType(), required=True),
        NestedField(4, "paid_at", TimestamptzType(), required=True),
        NestedField(5, "processor", StringType(), required=False),
    )
    payments = create_table(catalog, "demo.payments", payments_schema)
    payments.append(
        pa.table(
            {
                "payment_id": ids,
                "order_id": ids,
                "amount": [rng.randint(100, 50_000) / 100 for _ in ids],
                "paid_at": _times(rng, now - timedelta(hours=2), timedelta(days=1)),
                "processor": [rng.choice(["stripe", "adyen"]) for _ in ids],
            },
            schema=payments.schema().as_arrow(),
        )
    )


def _alerting_manifest(home: Path, url: str, monitoring: dict[str, object] | None = None) -> Path:
    """A manifest whose one alert channel posts warnings and worse to the demo's receiver
    (with ``monitoring`` settings besides, for the long-running monitor)."""
    path = home / ("demo-monitor.yaml" if monitoring else "demo-alerts.yaml")
    rule = {"channel_name": "demo-webhook", "min_severity": "warning"}
    doc = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {
            "alert_channels": [
                {
                    "name": "demo-webhook",
                    "type": "webhook",
                    "send_resolved": True,
                    "config": {"url": url, "timeout_seconds": 5},
                },
            ]
        },
        "data_contracts": {
            "monitoring": {**(monitoring or {}), "alerts": {"routing_rules": [rule]}}
        },
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


#: The demo monitor's intervals: minutes, not the defaults' quarter hours, to see it work.
DEMO_INTERVALS = {
    "freshness_minutes": 1,
    "schema_drift_minutes": 2,
    "quality_minutes": 2,
    "availability_minutes": 0.5,
}


def monitor(floe: Path, home: Path) -> int:
    """Register the demo contracts and run ``floe sla monitor`` on them until Ctrl-C, the
    demo's webhook receiver printing each alert as it arrives."""
    with HttpReceiver() as receiver:
        manifest = _alerting_manifest(
            home, receiver.url("/floe-alerts"), {"check_intervals": DEMO_INTERVALS}
        )
        for name in CONTRACTS:
            path = str((HERE / "contracts" / f"{name}.yaml").relative_to(Path.cwd()))
            subprocess.run(
                [str(floe), "sla", "register", path, "--manifest", str(manifest)], check=True
            )
        printer = threading.Thread(target=_print_alerts, args=(receiver,), daemon=True)
        printer.start()
        print(
            f"\n$ floe sla monitor --manifest {manifest}\n"
            "Open http://127.0.0.1:9464/ for the report (/status, /metrics, /healthz, /readyz);"
            " Ctrl-C stops it.",
            flush=True,
        )
        command = [str(floe), "sla", "monitor", "--manifest", str(manifest)]
        try:
            return subprocess.run(command, check=False).returncode
        except KeyboardInterrupt:  # the monitor got the same Ctrl-C and stops by itself
            return 0


def _print_alerts(receiver: HttpReceiver) -> None:
    seen = 0
    while True:
        requests = list(receiver.requests)
        for request in requests[seen:]:
            body = request.json()
            for event in body if isinstance(body, list) else [body]:
                data = event["data"]
                print(
                    f"  alert received: {event['type']} {data['contractName']} "
                    f"{data['violationType']} {data.get('severity', '')}".rstrip(),
                    flush=True,
                )
        seen = len(requests)
        time.sleep(0.5)


def _show_alerts(receiver: HttpReceiver) -> None:
    """What the webhook receiver got: one line per CloudEvent."""
    print(
        f"\nThe demo's webhook receiver ({receiver.url()}) got {len(receiver.requests)} "
        "notification(s):"
    )
    for request in receiver.requests:
        body = request.json()
        for event in body if isinstance(body, list) else [body]:
            data = event["data"]
            print(
                f"  {event['type']}: {data['contractName']} {data['violationType']} "
                f"{data.get('severity', '')} {data.get('element') or ''}".rstrip()
            )


def closing_hint(venv: Path) -> list[str]:
    """What to try next, as commands that work when pasted into a shell where the demo ran.

    ``floe`` is installed in ``venv`` (``.venv``), not on the PATH: activating it comes first.
    """
    try:
        shown = venv.relative_to(Path.cwd())
    except ValueError:
        shown = venv
    return [
        f"\nTry it yourself: floe is installed in {shown}, so activate it first (or call "
        f"{shown / 'bin' / 'floe'}):",
        f"  source {shown / 'bin' / 'activate'}",
        "  floe sla check examples/demo/contracts/payments.yaml --format json",
        "  floe sla history shipments",
        "  floe sla report --format html --output sla-report.html",
    ]


def main() -> int:
    home = DEFAULT_HOME
    print(f"Building the demo warehouse in {home.absolute()} ...", flush=True)
    build(home)
    floe = Path(sys.executable).parent / "floe"
    if "--monitor" in sys.argv[1:]:
        return monitor(floe, home)
    codes = {}
    with HttpReceiver() as receiver:
        manifest = _alerting_manifest(home, receiver.url("/floe-alerts"))
        for name in CONTRACTS:
            contract = HERE / "contracts" / f"{name}.yaml"
            path = str(contract.relative_to(Path.cwd()))
            command = [str(floe), "sla", "check", path, "--manifest", str(manifest), "--alert"]
            print(f"\n$ floe sla check {path} --manifest {manifest} --alert", flush=True)
            codes[name] = subprocess.run(command, check=False).returncode
        _show_alerts(receiver)
    print("\nExit statuses:", ", ".join(f"{n} {c}" for n, c in codes.items()))
    # Every check above was recorded in ./.floe/state.db: report on what it holds.
    print("\n$ floe sla report --window daily --since <a week ago>", flush=True)
    week_ago = (datetime.now(UTC) - timedelta(days=6)).date().isoformat()
    report = [str(floe), "sla", "report", "--window", "daily", "--since", week_ago]
    reported = subprocess.run(report, check=False).returncode
    print("\n".join(closing_hint(Path(sys.prefix))))
    expected = {"orders": 0, "shipments": 1, "payments": 1}
    return 0 if codes == expected and reported == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
