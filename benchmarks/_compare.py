"""``floe sla check`` against ``datacontract test`` and ``soda contract verify``, same data.

For each table size: every command as a whole process (one untimed warm-up each, then
``repeat`` rounds in which each runs once, in turn): floe as it runs by default (persisting
its results to the state database) and with ``--no-persist``; datacontract-cli on the same
Iceberg table; Soda Core 4 on the same Parquet files through DuckDB, three ways (a view, a
table materialised beforehand, Soda's own Parquet mode: ``_soda.py``). Wall time, CPU time
and peak RSS from ``_spawn.py``; then every report is parsed and the rule outcomes must agree
with floe's wherever both tools check the same thing, on the contracts the data passes and
on those whose every threshold it breaks. datacontract-cli and Soda live in venvs of their
own (``_datacontract.py``, ``_soda.py``); the contracts are in ``_contracts.py`` and
``_soda_contract.py``, the parsing in ``_outcomes.py``, the verdicts in ``_compare_rows.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import _soda
from _compare_rows import (
    TARGET_RATIO,
    TARGET_RSS_MB,
    TARGET_SMALL_SECONDS,
    TARGET_SODA_LARGE,
    TARGET_SODA_RSS_MB,
    TARGET_SODA_SMALL,
    TARGET_SODA_SMALL_NO_PERSIST,
    Peers,
    Tool,
    notes,
    ratio,
    shape,
    summary_rows,
)
from _contracts import FAILING_LATENCY, CompareInputs, write_inputs
from _datacontract import REQUIREMENTS, VENV, DataContractCli, could_not_run, ensure_datacontract
from _datacontract import read_report as read_datacontract_report
from _outcomes import (
    Agreement,
    Outcome,
    compare,
    datacontract_outcomes,
    floe_outcomes,
    soda_outcomes,
)
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
    """Measure every tool on every configured table and judge the targets."""
    cli = ensure_datacontract()
    soda = _soda.ensure_soda()
    section = Section("compare")
    section.figures = {
        "datacontract": {
            "venv": str(VENV),
            "requirements": list(REQUIREMENTS),
            "versions": cli.versions,
            "environment": {"DATACONTRACT_ICEBERG_CATALOG_TYPE": "sql"},
        },
        "soda": {
            "venv": str(_soda.VENV),
            "requirements": list(_soda.REQUIREMENTS),
            "versions": soda.versions,
            "environment": _soda.ENVIRONMENT,
            "dataset": _soda.DATASET,
            "variants": dict(SODA_VARIANTS),
        },
        "targets": {
            "floe_median_s_at_1m": TARGET_SMALL_SECONDS,
            "ratio_at_10m": TARGET_RATIO,
            "floe_peak_rss_mb_at_10m": TARGET_RSS_MB,
            "floe_over_fastest_soda_at_1m": TARGET_SODA_SMALL,
            "floe_no_persist_over_fastest_soda_at_1m": TARGET_SODA_SMALL_NO_PERSIST,
            "floe_over_fastest_soda_at_10m": TARGET_SODA_LARGE,
            "floe_peak_rss_mb_at_10m_issue": TARGET_SODA_RSS_MB,
        },
        "tables": [],
    }
    for rows, files in config.tables:
        cached = ensure_orders(rows, files)
        print(
            f"compare: floe sla check vs datacontract test and soda contract verify on "
            f"{rows:,} rows ...",
            flush=True,
        )
        _compare_one(cached, cli, soda, config.repeat, section)
    return section


SODA_VARIANTS = {
    "view": "DuckDB view over the snapshot's {files} Parquet files",
    "table": "DuckDB table made from the {files} files beforehand (untimed)",
    "parquet": "Soda's Parquet mode: loads the {files} files into an in-memory table each run",
}


def _compare_one(
    cached: CachedTable, cli: DataContractCli, soda: _soda.SodaCli, repeat: int, section: Section
) -> None:
    inputs = write_inputs(cached, _soda.DATASET)
    sources = _soda.write_sources(soda, inputs.directory / "soda", live_data_files(cached))
    floe_env = floe_environment()
    floe = Tool("floe", _floe_argv(inputs.floe_contract, inputs))
    floe_np = Tool("floe --no-persist", [*floe.argv, "--no-persist"])
    soda_env = soda.environment()
    with TemporaryDirectory(prefix="floe-bench-dc-") as tmp:
        output = Path(tmp) / "report.json"
        soda_output = Path(tmp) / "soda.json"
        dc = Tool("datacontract", cli.test_argv(inputs.datacontract_contract, output))
        dc_env = cli.environment()
        soda_tools = {
            variant: Tool(
                f"soda {variant}",
                soda.verify_argv(sources.data_sources[variant], inputs.soda_contract, soda_output),
                label=label.format(files=len(sources.data_files)),
            )
            for variant, label in SODA_VARIANTS.items()
        }

        def floe_once(tool: Tool, persisted: bool) -> None:
            run = measure(tool.argv, floe_env)
            report = floe_report(run, persisted=persisted)
            tool.outcomes = floe_outcomes(report)
            tool.checks = {r["check_type"]: r["status"] for r in report["results"]}
            tool.inner_s.append({r["check_type"]: r["duration_seconds"] for r in report["results"]})
            tool.runs.append(run)

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

        def soda_once(tool: Tool) -> None:
            report, run = _run_soda(tool.argv, soda_env, soda_output)
            if report is None:
                tool.broken = _tail(run)
                return
            tool.broken = _soda.could_not_run(report, run.exit_code)
            tool.outcomes = soda_outcomes(report)
            tool.checks = {_soda_check_key(c): _soda_status(c) for c in report["checks"]}
            tool.inner_s.append({"verify": _soda_elapsed(report)})
            tool.runs.append(run)

        turns: list[tuple[Tool, Callable[[], None]]] = [
            (floe, lambda: floe_once(floe, True)),
            (floe_np, lambda: floe_once(floe_np, False)),
            (dc, dc_once),
            *((t, partial(soda_once, t)) for t in soda_tools.values()),
        ]
        for tool, once in turns:
            _warm_up(tool, once)
        for _ in range(repeat):
            for tool, once in turns:
                if tool.broken is None:
                    once()
        failing = _failing_agreements(
            cached, inputs, floe_env, cli, output, dc.broken is None, soda, soda_tools
        )
    agreement = compare(floe.outcomes, dc.outcomes)
    soda_agreements = {
        v: compare(floe.outcomes, t.outcomes, peer="soda")
        for v, t in soda_tools.items()
        if t.broken is None
    }
    peers = Peers(
        floe,
        floe_np,
        dc,
        soda_tools,
        agreement,
        failing.get("datacontract"),
        soda_agreements,
        {k.removeprefix("soda "): a for k, a in failing.items() if k.startswith("soda ")},
    )
    section.rows.extend(summary_rows(cached, peers))
    where = shape(cached)
    if dc.broken is None and not agreement.ok:
        section.errors.append(f"{where}: the two tools disagree: {agreement.describe()}")
    for variant, soda_agreement in soda_agreements.items():
        if not soda_agreement.ok:
            section.errors.append(
                f"{where}: floe and Soda ({variant}) disagree: {soda_agreement.describe()}"
            )
    for name, failed in failing.items():
        if not failed.ok:
            section.errors.append(
                f"{where}, thresholds set to fail: floe and {name} disagree: {failed.describe()}"
            )
    section.notes.extend(notes(cached, peers))
    section.figures["tables"].append(
        {
            "rows": cached.rows,
            "data_files": cached.files,
            "identifier": cached.identifier,
            "directory": str(cached.directory),
            "floe_contract": str(inputs.floe_contract),
            "datacontract_contract": str(inputs.datacontract_contract),
            "soda_contract": str(inputs.soda_contract),
            "manifest": str(inputs.manifest),
            "floe": floe.as_dict(),
            "floe_no_persist": floe_np.as_dict(),
            "datacontract": dc.as_dict(),
            "soda": {
                v: {**t.as_dict(), "data_source": str(sources.data_sources[v])}
                for v, t in soda_tools.items()
            },
            "ratio": ratio(floe, dc),
            "agreement": _agreement_figures(agreement),
            "soda_agreement": {v: _agreement_figures(a) for v, a in soda_agreements.items()},
            "failing_thresholds": None
            if not failing
            else {
                "floe_contract": str(inputs.failing_floe_contract),
                "datacontract_contract": str(inputs.failing_datacontract_contract),
                "soda_contract": str(inputs.failing_soda_contract),
                **_failing_figures(failing.get("datacontract")),
                "soda": {
                    name.removeprefix("soda "): _failing_figures(a)
                    for name, a in failing.items()
                    if name.startswith("soda ")
                },
            },
        }
    )


def live_data_files(cached: CachedTable) -> list[str]:
    """The local paths of the data files of the table's current snapshot (pyiceberg's plan)."""
    table = cached.catalog().load_table(cached.identifier)
    paths = [task.file.file_path for task in table.scan().plan_files()]
    return [p.removeprefix("file://") for p in paths]


def _floe_argv(contract: Path, inputs: CompareInputs) -> list[str]:
    return [
        *(str(FLOE), "sla", "check", str(contract)),
        *("--manifest", str(inputs.manifest), "--format", "json"),
    ]


def _failing_figures(agreement: Agreement | None) -> dict[str, Any]:
    if agreement is None:
        return {}
    return {
        "agreed": {k: vars(o) for k, o in agreement.agreed.items()},
        "disagreed": sorted(agreement.disagreed),
        "values_differ": agreement.values_differ,
    }


def _agreement_figures(agreement: Agreement) -> dict[str, Any]:
    return {
        "agreed": sorted(agreement.agreed),
        "disagreed": sorted(agreement.disagreed),
        "values_differ": agreement.values_differ,
        "only_floe": agreement.only_floe,
        f"only_{agreement.peer}": agreement.only_peer,
    }


def _failing_agreements(
    cached: CachedTable,
    inputs: CompareInputs,
    floe_env: dict[str, str],
    cli: DataContractCli,
    output: Path,
    dc_ran: bool,
    soda: _soda.SodaCli,
    soda_tools: dict[str, Tool],
) -> dict[str, Agreement]:
    """Every tool that could run, once, on the contracts whose every threshold the data breaks.

    Keyed ``datacontract`` and ``soda <variant>``.
    """
    runnable = [v for v, t in soda_tools.items() if t.broken is None]
    _wait_until_stale(cached)
    floe_failing = floe_outcomes(
        floe_report(measure(_floe_argv(inputs.failing_floe_contract, inputs), floe_env))
    )
    agreements: dict[str, Agreement] = {}
    if dc_ran:
        output.unlink(missing_ok=True)
        argv = cli.test_argv(inputs.failing_datacontract_contract, output)
        dc_report = _datacontract_report(measure(argv, cli.environment()), output)
        agreements["datacontract"] = compare(floe_failing, datacontract_outcomes(dc_report))
    sources = inputs.directory / "soda"
    soda_output = output.with_name("soda-failing.json")
    for variant in runnable:
        argv = soda.verify_argv(
            sources / f"data-source.{variant}.yaml", inputs.failing_soda_contract, soda_output
        )
        report, _ = _run_soda(argv, soda.environment(), soda_output)
        outcomes: dict[str, Outcome] = {} if report is None else soda_outcomes(report)
        agreements[f"soda {variant}"] = compare(floe_failing, outcomes, peer="soda")
    return agreements


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


def _run_soda(
    argv: list[str], env: dict[str, str], output: Path
) -> tuple[dict[str, Any] | None, ProcessRun]:
    """One ``soda contract verify``; its JSON results, None if it wrote none (crashed)."""
    output.unlink(missing_ok=True)
    run = measure(argv, env)
    if not output.is_file():
        return None, run
    return _soda.read_report(output), run


def _soda_check_key(check: dict[str, Any]) -> str:
    column = f"{check['column']}." if check.get("column") else ""
    return f"{column}{check.get('type')}" + (f" ({check['name']})" if check.get("name") else "")


def _soda_status(check: dict[str, Any]) -> str:
    outcome = str(check.get("outcome"))
    return {"PASSED": "pass", "FAILED": "fail", "WARN": "warning"}.get(outcome, outcome.lower())


def _soda_elapsed(report: dict[str, Any]) -> float:
    contracts = report.get("contracts") or [{}]
    start, end = contracts[0].get("started"), contracts[0].get("ended")
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _tail(run: ProcessRun) -> str:
    lines = (run.stdout + run.stderr).strip().splitlines()
    return f"exit {run.exit_code}, no results: " + " | ".join(lines[-5:])
