"""``floe sla check`` against ``datacontract test`` on the same Iceberg table and contract.

For each table size: both commands as whole processes (one untimed warm-up each, then
``repeat`` runs, alternating), wall time, CPU time and peak RSS from ``_spawn.py``; then
both reports are parsed and their rule outcomes must agree wherever both tools check the
same thing. datacontract-cli lives in its own venv (``_datacontract.py``); the contracts are
in ``_contracts.py``, the parsing in ``_outcomes.py``, the verdicts in ``_compare_rows.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from _compare_rows import (
    TARGET_RATIO,
    TARGET_RSS_MB,
    TARGET_SMALL_SECONDS,
    Tool,
    notes,
    ratio,
    shape,
    summary_rows,
)
from _contracts import FAILING_LATENCY, CompareInputs, write_inputs
from _datacontract import REQUIREMENTS, VENV, DataContractCli, could_not_run, ensure_datacontract
from _datacontract import read_report as read_datacontract_report
from _outcomes import Agreement, compare, datacontract_outcomes, floe_outcomes
from _report import Section
from _spawn import ProcessRun, floe_environment, floe_report, measure
from _tables import CachedTable, ensure_orders

DEFAULT_TOLERANCE_S = 60  # floe's clock_skew_tolerance_seconds, which the manifest leaves as is

FLOE = Path(sys.executable).parent / "floe"


@dataclass(frozen=True)
class CompareConfig:
    """Table sizes as (rows, data files), and runs of each command per size."""

    tables: tuple[tuple[int, int], ...]
    repeat: int


def run_compare(config: CompareConfig) -> Section:
    """Measure both tools on every configured table and judge the targets."""
    cli = ensure_datacontract()
    section = Section("compare")
    section.figures = {
        "datacontract": {
            "venv": str(VENV),
            "requirements": list(REQUIREMENTS),
            "versions": cli.versions,
            "environment": {"DATACONTRACT_ICEBERG_CATALOG_TYPE": "sql"},
        },
        "targets": {
            "floe_median_s_at_1m": TARGET_SMALL_SECONDS,
            "ratio_at_10m": TARGET_RATIO,
            "floe_peak_rss_mb_at_10m": TARGET_RSS_MB,
        },
        "tables": [],
    }
    for rows, files in config.tables:
        cached = ensure_orders(rows, files)
        print(f"compare: floe sla check vs datacontract test on {rows:,} rows ...", flush=True)
        _compare_one(cached, cli, config.repeat, section)
    return section


def _compare_one(cached: CachedTable, cli: DataContractCli, repeat: int, section: Section) -> None:
    inputs = write_inputs(cached)
    floe_env = floe_environment()
    floe = Tool("floe", [str(FLOE), "sla", "check", str(inputs.floe_contract)])
    floe.argv += ["--manifest", str(inputs.manifest), "--format", "json"]
    with TemporaryDirectory(prefix="floe-bench-dc-") as tmp:
        output = Path(tmp) / "report.json"
        dc = Tool("datacontract", cli.test_argv(inputs.datacontract_contract, output))
        dc_env = cli.environment()

        def floe_once() -> None:
            run = measure(floe.argv, floe_env)
            report = floe_report(run)
            floe.outcomes = floe_outcomes(report)
            floe.checks = {r["check_type"]: r["status"] for r in report["results"]}
            floe.inner_s.append({r["check_type"]: r["duration_seconds"] for r in report["results"]})
            floe.runs.append(run)

        def dc_once() -> None:
            output.unlink(missing_ok=True)
            run = measure(dc.argv, dc_env)
            report = _datacontract_report(run, output)
            dc.broken = could_not_run(report)
            dc.outcomes = datacontract_outcomes(report)
            dc.checks = {
                str(c.get("key") or c.get("name")): str(c.get("result")) for c in report["checks"]
            }
            dc.inner_s.append({"test": _elapsed(report)})
            dc.runs.append(run)

        _warm_up(floe, floe_once)
        _warm_up(dc, dc_once)
        for _ in range(repeat):
            floe_once()
            if dc.broken is None:
                dc_once()
        failing: Agreement | None = None
        if dc.broken is None:
            failing = _failing_agreement(cached, inputs, floe_env, cli, output)
    agreement = compare(floe.outcomes, dc.outcomes)
    section.rows.extend(summary_rows(cached, floe, dc, agreement, failing))
    if dc.broken is None and not agreement.ok:
        section.errors.append(f"{shape(cached)}: the two tools disagree: {agreement.describe()}")
    if failing is not None and not failing.ok:
        section.errors.append(
            f"{shape(cached)}, thresholds set to fail: the two tools disagree: "
            + failing.describe()
        )
    section.notes.extend(notes(cached, floe, dc, agreement))
    section.figures["tables"].append(
        {
            "rows": cached.rows,
            "data_files": cached.files,
            "identifier": cached.identifier,
            "directory": str(cached.directory),
            "floe_contract": str(inputs.floe_contract),
            "datacontract_contract": str(inputs.datacontract_contract),
            "manifest": str(inputs.manifest),
            "floe": floe.as_dict(),
            "datacontract": dc.as_dict(),
            "ratio": ratio(floe, dc),
            "agreement": {
                "agreed": sorted(agreement.agreed),
                "disagreed": sorted(agreement.disagreed),
                "values_differ": agreement.values_differ,
                "only_floe": agreement.only_floe,
                "only_datacontract": agreement.only_datacontract,
            },
            "failing_thresholds": None
            if failing is None
            else {
                "floe_contract": str(inputs.failing_floe_contract),
                "datacontract_contract": str(inputs.failing_datacontract_contract),
                "agreed": {k: vars(o) for k, o in failing.agreed.items()},
                "disagreed": sorted(failing.disagreed),
                "values_differ": failing.values_differ,
            },
        }
    )


def _failing_agreement(
    cached: CachedTable,
    inputs: CompareInputs,
    floe_env: dict[str, str],
    cli: DataContractCli,
    output: Path,
) -> Agreement:
    """Both tools once on the contracts whose every threshold the data breaks."""
    _wait_until_stale(cached)
    argv = [str(FLOE), "sla", "check", str(inputs.failing_floe_contract)]
    argv += ["--manifest", str(inputs.manifest), "--format", "json"]
    failing_report = floe_report(measure(argv, floe_env))
    output.unlink(missing_ok=True)
    run = measure(cli.test_argv(inputs.failing_datacontract_contract, output), cli.environment())
    dc_report = _datacontract_report(run, output)
    return compare(floe_outcomes(failing_report), datacontract_outcomes(dc_report))


def _wait_until_stale(cached: CachedTable) -> None:
    """Wait until the newest row breaks the failing latency for floe too.

    floe forgives ``clock_skew_tolerance_seconds`` (60 s by default) beyond a freshness SLA,
    datacontract-cli nothing: a table generated moments ago can be too old for one tool and
    not yet for the other.
    """
    import time

    threshold, unit = FAILING_LATENCY
    seconds = threshold * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] + DEFAULT_TOLERANCE_S
    newest = datetime.fromisoformat(cached.newest_updated_at)
    age = (datetime.now(newest.tzinfo) - newest).total_seconds()
    if age <= seconds:
        print(f"compare: waiting {seconds + 1 - age:.0f} s for the data to be stale for both tools")
        time.sleep(seconds + 1 - age)


def _warm_up(tool: Tool, once: Callable[[], None]) -> None:
    """One untimed run (page cache, ``.pyc`` files), forgotten afterwards but for its report."""
    once()
    tool.runs.clear()
    tool.inner_s.clear()


def _datacontract_report(run: ProcessRun, output: Path) -> dict[str, Any]:
    if not output.is_file():
        raise RuntimeError(
            f"datacontract test exited {run.exit_code} without a report:\n"
            f"{run.stdout}\n{run.stderr}"
        )
    return read_datacontract_report(output)


def _elapsed(report: dict[str, Any]) -> float:
    start, end = report.get("timestampStart"), report.get("timestampEnd")
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
