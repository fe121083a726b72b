"""``floe sla check`` (freshness + schema_drift) as a whole process, as a user runs it.

Each run is its own process, reaped with ``os.wait4`` so that its wall time and its own peak
RSS are known (``RUSAGE_CHILDREN`` would give the maximum over all children); see
``_spawn.py``. One untimed run first warms the page cache and writes the ``.pyc`` files.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from _report import Row, Section, Timings, ms
from _spawn import ProcessRun, floe_environment, floe_report, measure
from _tables import DATA_DIR, CachedTable, ensure_orders

BIN = Path(sys.executable).parent
FLOE = BIN / "floe"
TARGET_SECONDS = 1.5
LATENCY_DAYS = 30  # the generated data spans 30 days up to generation time


@dataclass(frozen=True)
class E2EConfig:
    """Table size and how many times each command runs."""

    rows: int
    files: int
    repeat: int
    importtime: bool


def run_e2e(config: E2EConfig) -> Section:
    """Time ``floe sla --help`` and ``floe sla check``; optionally break down import time."""
    cached = ensure_orders(config.rows, config.files)
    contract, manifest = write_inputs(cached)
    env = floe_environment()
    check_argv = [str(FLOE), "sla", "check", str(contract), "--manifest", str(manifest)]
    # Named, so the benchmark keeps measuring these two as floe gains check types.
    check_argv += ["--check", "freshness", "--check", "schema_drift", "--format", "json"]
    help_argv = [str(FLOE), "sla", "--help"]

    measure(help_argv, env)
    helps = [measure(help_argv, env) for _ in range(config.repeat)]
    first = measure(check_argv, env)
    _check_run(first)
    checks = [measure(check_argv, env) for _ in range(config.repeat)]
    summary = _check_run(checks[-1])
    for run in checks:
        _check_run(run)

    help_t = Timings(tuple(r.wall for r in helps))
    check_t = Timings(tuple(r.wall for r in checks))
    rss_mib = [r.max_rss_kib / 1024 for r in checks]
    cpu = statistics.median(r.cpu for r in checks)
    met = check_t.median < TARGET_SECONDS
    shape = f"{cached.rows:,} rows, {cached.files} files"
    section = Section("e2e")
    section.rows = [
        Row(
            "e2e: floe sla --help",
            "startup only",
            f"{help_t.brief()}, peak RSS {max(r.max_rss_kib for r in helps) / 1024:.0f} MiB",
            "",
            "context",
        ),
        Row(
            "e2e: floe sla check",
            f"{shape}; freshness + schema_drift, --format json",
            f"median {ms(check_t.median)}, min {ms(check_t.min)}, max {ms(check_t.max)} "
            f"(n={len(checks)}); CPU {ms(cpu)}; peak RSS {max(rss_mib):.0f} MiB",
            "",
            f"median < {TARGET_SECONDS} s",
            met,
        ),
    ]
    section.figures = {
        "table": {
            "identifier": cached.identifier,
            "rows": cached.rows,
            "data_files": cached.files,
            "directory": str(cached.directory),
        },
        "contract": str(contract),
        "manifest": str(manifest),
        "command": check_argv,
        "help": {**help_t.as_dict(), "max_rss_mib": [r.max_rss_kib / 1024 for r in helps]},
        "check": {
            **check_t.as_dict(),
            "cpu_s": [r.cpu for r in checks],
            "max_rss_mib": rss_mib,
            "exit_codes": [r.exit_code for r in checks],
            "result": summary,
        },
        "target_seconds": TARGET_SECONDS,
        "target_met": met,
    }
    section.notes.append(
        f"floe sla check exit {checks[-1].exit_code}; "
        + "; ".join(f"{k}: {v}" for k, v in summary.items())
    )
    if config.importtime:
        startup = importtime(
            [str(BIN / "python"), "-X", "importtime", "-c", "import floe_core.cli.main"]
        )
        during = importtime([str(BIN / "python"), "-X", "importtime", *check_argv])
        section.figures["importtime"] = {"cli_main": startup, "sla_check": during}
        section.notes.append(
            _describe_imports("python -X importtime -c 'import floe_core.cli.main'", startup)
        )
        section.notes.append(_describe_imports("python -X importtime floe sla check ...", during))
    return section


def write_inputs(cached: CachedTable) -> tuple[Path, Path]:
    """The contract and manifest for ``cached``, written next to it in ``benchmarks/.data``."""
    directory = DATA_DIR / f"e2e-{cached.directory.name}"
    directory.mkdir(parents=True, exist_ok=True)
    contract = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "bench-orders",
        "name": "bench-orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "physicalName": cached.identifier,
                "physicalType": "table",
                "properties": [
                    odcs_property("id", "integer", "long", required=True, primary_key=True),
                    odcs_property("email", "string", "string"),
                    odcs_property("amount", "number", "double"),
                    odcs_property("status", "string", "string"),
                    odcs_property("updated_at", "timestamp", "timestamptz", required=True),
                ],
            }
        ],
        "slaProperties": [
            {
                "property": "latency",
                "value": LATENCY_DAYS,
                "unit": "d",
                "element": "orders.updated_at",
            }
        ],
    }
    manifest = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {"catalog": {"type": "sql", "config": cached.catalog_config()}},
    }
    contract_path = directory / "contract.yaml"
    manifest_path = directory / "manifest.yaml"
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False))
    manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return contract_path, manifest_path


def odcs_property(
    name: str, logical: str, physical: str, *, required: bool = False, primary_key: bool = False
) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": name, "logicalType": logical, "physicalType": physical}
    if required:
        prop["required"] = True
    if primary_key:
        prop["primaryKey"] = True
    return prop


def _check_run(run: ProcessRun) -> dict[str, Any]:
    """Fail unless both checks ran (exit 0 or 1, no check errored); summarise the report."""
    report = floe_report(run)
    results = {r["check_type"]: r for r in report["results"]}
    assert set(results) == {"freshness", "schema_drift"}, f"unexpected checks: {list(results)}"
    fresh = results["freshness"]["details"]["tables"][0]
    return {
        "freshness": results["freshness"]["status"],
        "method": fresh["method"],
        "newest_data": fresh["newest_data"],
        "schema_drift": results["schema_drift"]["status"],
        "violations": len(report["violations"]),
    }


def importtime(argv: list[str]) -> dict[str, Any]:
    """Where a process spends its import time, from ``python -X importtime`` output.

    ``top``: the imports made directly (not from inside another import) by cumulative time;
    ``by_package``: own ("self") time summed per top-level package, which names the
    dependencies that cost the most however they were reached.
    """
    run = measure(argv)
    top: list[tuple[str, int]] = []
    by_package: dict[str, int] = {}
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue  # the header line
        package = name.strip().split(".")[0]
        by_package[package] = by_package.get(package, 0) + int(own)
        if not name.startswith("  "):  # one space follows the bar; nested imports indent more
            top.append((name.strip(), int(cumulative)))
    top.sort(key=lambda item: item[1], reverse=True)
    packages = sorted(by_package.items(), key=lambda item: item[1], reverse=True)
    return {
        "wall_s": run.wall,
        "total_import_s": sum(us for _, us in top) / 1e6,
        "top": [{"module": name, "cumulative_s": us / 1e6} for name, us in top[:10]],
        "by_package": [{"package": name, "self_s": us / 1e6} for name, us in packages[:12]],
    }


def _describe_imports(label: str, found: dict[str, Any]) -> str:
    top = ", ".join(f"{t['module']} {ms(t['cumulative_s'])}" for t in found["top"][:6])
    packages = ", ".join(f"{p['package']} {ms(p['self_s'])}" for p in found["by_package"][:8])
    return (
        f"{label} (process {ms(found['wall_s'])}): imports {ms(found['total_import_s'])} in "
        f"total\n    direct imports by cumulative time: {top}"
        f"\n    own time by package: {packages}"
    )
