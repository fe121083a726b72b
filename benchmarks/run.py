"""floe benchmarks: measure, print a side-by-side comparison, write results/latest.json.

    .venv/bin/python benchmarks/run.py                  # full: 10M rows / 100 files, 1M rows e2e
    .venv/bin/python benchmarks/run.py --quick          # smoke test in about a minute
    .venv/bin/python benchmarks/run.py --only e2e --repeat 11
    .venv/bin/python benchmarks/run.py --only compare   # floe against datacontract-cli and Soda
    .venv/bin/python benchmarks/run.py --only alerts    # alert routing on PostgreSQL and SQLite
    .venv/bin/python benchmarks/run.py --only monitor   # floe sla monitor: 10,000 contracts
    .venv/bin/python benchmarks/run.py --only telemetry # traces + lineage against neither

Generated tables are cached in benchmarks/.data/ by row and file count and reused when
present; delete that directory (or run ``make clean``) to regenerate them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _alerts import AlertsConfig, run_alerts
from _compare import CompareConfig, run_compare
from _e2e import E2EConfig, run_e2e
from _freshness import FreshnessConfig, run_freshness
from _history import HistoryConfig, run_history, server_url
from _monitor import MonitorConfig, run_monitor
from _report import Row, Section, render_table
from _telemetry import run_telemetry

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
BENCHMARKS = ("freshness", "e2e", "compare", "history", "alerts", "monitor", "telemetry")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark floe's freshness paths and the floe sla check command, and "
        "compare floe sla check with datacontract test and soda contract verify.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows-large", type=int, default=10_000_000, help="rows, freshness")
    parser.add_argument("--files-large", type=int, default=100, help="data files, freshness")
    parser.add_argument("--rows-e2e", type=int, default=1_000_000, help="rows, floe sla check")
    parser.add_argument("--files-e2e", type=int, default=10, help="data files, floe sla check")
    parser.add_argument(
        "--repeat",
        type=int,
        default=7,
        help="runs of the scan path and of each command; the metadata path runs 5x as many",
    )
    parser.add_argument(
        "--compare-tables",
        type=_table_size,
        nargs="+",
        default=[(1_000_000, 10), (10_000_000, 100)],
        metavar="ROWSxFILES",
        help="tables for the comparison with datacontract test and Soda, e.g. 1000000x10",
    )
    parser.add_argument(
        "--compare-repeat",
        type=int,
        default=5,
        help="timed runs of each command per table in the comparison",
    )
    parser.add_argument(
        "--history-contracts", type=int, default=1000, help="contracts, history benchmark"
    )
    parser.add_argument("--history-days", type=int, default=30, help="days, history benchmark")
    parser.add_argument(
        "--write-runs", type=int, default=500, help="check runs written per state backend"
    )
    parser.add_argument(
        "--alerts-contracts", type=int, default=500, help="contracts, alerts benchmark"
    )
    parser.add_argument(
        "--alerts-runs", type=int, default=20, help="runs of each contract, alerts benchmark"
    )
    parser.add_argument(
        "--alerts-concurrency", type=int, default=4, help="routes at once, alerts benchmark"
    )
    parser.add_argument(
        "--alerts-batch",
        type=int,
        default=25,
        help="contract runs routed together (route_many), alerts benchmark",
    )
    parser.add_argument(
        "--monitor-contracts", type=int, default=10_000, help="contracts, monitor benchmark"
    )
    parser.add_argument("--monitor-tables", type=int, default=100, help="tables, monitor benchmark")
    parser.add_argument(
        "--monitor-minutes", type=float, default=10, help="steady-state minutes, monitor benchmark"
    )
    parser.add_argument(
        "--monitor-headroom",
        type=float,
        nargs="*",
        default=[1.25, 1.5, 1.75, 2, 3],
        metavar="FACTOR",
        help="interval divisors tried for headroom, monitor benchmark",
    )
    parser.add_argument(
        "--monitor-headroom-seconds", type=float, default=60, help="seconds timed per factor"
    )
    parser.add_argument(
        "--monitor-replicas-minutes",
        type=float,
        default=3,
        help="minutes two replicas share the load before one is killed",
    )
    parser.add_argument(
        "--telemetry-repeat", type=int, default=15, help="runs of each way, telemetry benchmark"
    )
    parser.add_argument(
        "--telemetry-monitor-seconds",
        type=float,
        default=60,
        help="seconds each round of two monitors is timed (4 rounds), telemetry benchmark",
    )
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 200k rows in 20 files, 50k rows e2e, compare on both, 3 repetitions, "
        "alerts over 50 contracts",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the metadata path even if it is fast, and one round of alert routing",
    )
    parser.add_argument(
        "--no-importtime", action="store_true", help="skip the -X importtime breakdown"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a target is not met (for CI)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows_large, args.files_large = 200_000, 20
        args.rows_e2e, args.files_e2e = 50_000, 5
        args.compare_tables = [(args.rows_e2e, args.files_e2e), (args.rows_large, args.files_large)]
        args.repeat = min(args.repeat, 3)
        args.history_contracts, args.history_days, args.write_runs = 20, 3, 100
        args.compare_repeat = min(args.compare_repeat, 3)
        args.alerts_contracts = min(args.alerts_contracts, 50)
        args.monitor_contracts, args.monitor_tables = 1_000, 20
        args.monitor_minutes, args.monitor_headroom = 2, [2.0, 4.0]
        args.monitor_headroom_seconds, args.monitor_replicas_minutes = 30, 1
        args.telemetry_repeat, args.telemetry_monitor_seconds = 3, 20
    if min(args.alerts_contracts, args.alerts_runs, args.alerts_concurrency, args.alerts_batch) < 1:
        parser.error("the --alerts-* counts must be >= 1")
    if args.repeat < 1 or args.compare_repeat < 1:
        parser.error("--repeat and --compare-repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    cpu_before = cpu_seconds()
    sections: list[Section] = []
    if args.only in (None, "freshness"):
        print(f"freshness: {args.rows_large:,} rows in {args.files_large} files ...", flush=True)
        config = FreshnessConfig(args.rows_large, args.files_large, args.repeat, args.profile)
        sections.append(run_freshness(config))
    if args.only in (None, "e2e"):
        print(f"e2e: floe sla check on {args.rows_e2e:,} rows ...", flush=True)
        e2e = E2EConfig(args.rows_e2e, args.files_e2e, args.repeat, not args.no_importtime)
        sections.append(run_e2e(e2e))
    if args.only in (None, "compare"):
        compare = CompareConfig(tuple(args.compare_tables), args.compare_repeat)
        sections.append(run_compare(compare))
    if args.only in (None, "history"):
        print(
            f"history: {args.history_contracts:,} contracts x {args.history_days} days in "
            "PostgreSQL ...",
            flush=True,
        )
        history = HistoryConfig(
            args.history_contracts, args.history_days, args.repeat, args.write_runs, server_url()
        )
        sections.append(run_history(history))
    if args.only in (None, "alerts"):
        print(
            f"alerts: {args.alerts_contracts * args.alerts_runs:,} violations across "
            f"{args.alerts_contracts:,} contracts, state on PostgreSQL and SQLite ...",
            flush=True,
        )
        alerts = AlertsConfig(
            args.alerts_contracts,
            args.alerts_runs,
            args.alerts_concurrency,
            args.alerts_batch,
            server_url(),
            args.profile,
        )
        sections.append(run_alerts(alerts))
    if args.only in (None, "monitor"):
        print(
            f"monitor: floe sla monitor on {args.monitor_contracts:,} contracts over "
            f"{args.monitor_tables} tables, state on PostgreSQL ...",
            flush=True,
        )
        monitor = MonitorConfig(
            args.monitor_contracts,
            args.monitor_tables,
            args.monitor_minutes,
            tuple(args.monitor_headroom),
            args.monitor_headroom_seconds,
            args.monitor_replicas_minutes,
            server_url(),
        )
        sections.append(run_monitor(monitor))
    if args.only in (None, "telemetry"):
        print("telemetry: the overhead of traces and lineage ...", flush=True)
        sections.append(
            run_telemetry(args.telemetry_repeat, args.telemetry_monitor_seconds, server_url())
        )

    rows: list[Row] = [row for s in sections for row in s.rows]
    others = others_share(cpu_before, cpu_seconds(), time.monotonic() - started)
    print()
    for section in sections:
        for note in section.notes:
            print(f"[{section.name}] {note}")
    if others is not None:
        contended = "; figures are noisy, trust min over median" if others > 0.1 else ""
        print(f"other processes used {others:.0%} of the machine's CPU during the run{contended}")
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    print(f"python {platform.python_version()} ({base}): floe, datacontract-cli, Soda run on it")
    print()
    print(render_table(rows))
    write_results(args, sections, time.monotonic() - started, others)
    print(f"\nfigures written to {args.output}")
    missed = [f"{r.benchmark} [{r.configuration}]" for r in rows if r.met is False]
    for miss in missed:
        print(f"target not met: {miss}")
    errors = [error for s in sections for error in s.errors]
    for error in errors:
        print(f"FAILED: {error}")
    return 1 if errors or (missed and args.check) else 0


def write_results(
    args: argparse.Namespace, sections: list[Section], elapsed: float, others: float | None
) -> None:
    doc: dict[str, Any] = {
        "written_at": datetime.now(UTC).isoformat(),
        "elapsed_s": round(elapsed, 1),
        "other_processes_cpu_share": others,
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": environment(),
        "benchmarks": {s.name: s.figures for s in sections},
        "errors": [error for s in sections for error in s.errors],
        "summary": [
            {
                "benchmark": r.benchmark,
                "configuration": r.configuration,
                "figures": r.figures,
                "ratio": r.ratio,
                "target": r.target,
                "met": r.met,
            }
            for r in (row for s in sections for row in s.rows)
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=2) + "\n")


def _table_size(text: str) -> tuple[int, int]:
    """``1000000x10`` -> (1000000, 10): rows and data files."""
    rows, sep, files = text.lower().replace("_", "").partition("x")
    if not sep or not rows.isdigit() or not files.isdigit() or int(files) < 1:
        raise argparse.ArgumentTypeError(f"expected ROWSxFILES such as 1000000x10, got {text!r}")
    return int(rows), int(files)


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds the whole machine has used, CPU seconds this run has used), on Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    machine = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    return machine, own


def others_share(
    before: tuple[float, float] | None, after: tuple[float, float] | None, elapsed: float
) -> float | None:
    """The share of all CPUs that other processes used between ``before`` and ``after``."""
    if before is None or after is None or elapsed <= 0:
        return None
    others = (after[0] - before[0]) - (after[1] - before[1])
    return max(others, 0.0) / (elapsed * (os.cpu_count() or 1))


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "python_executable": str(Path(getattr(sys, "_base_executable", sys.executable)).resolve()),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": {
            name: version(name)
            for name in ("floe-core", "pyiceberg", "pyarrow", "pydantic", "duckdb")
        },
    }


if __name__ == "__main__":
    sys.exit(main())
