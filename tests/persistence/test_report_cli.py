"""``floe sla report`` and ``floe sla db purge`` as a user runs them, on both backends."""

from __future__ import annotations

import asyncio
import csv
import errno
import io
import json
import os
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ._synthetic import History, Run
from .conftest import StateDB
from .test_cli import check

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def write(db: StateDB, history: History) -> None:
    async def run() -> None:
        async with db.store() as store:
            await history.write(store)

    asyncio.run(run())


def yesterday() -> History:
    """Yesterday: four freshness runs of orders, three passing; one quality run scoring 75."""
    return History().add(
        Run("orders", "freshness", at(YESTERDAY, 1)),
        Run("orders", "freshness", at(YESTERDAY, 2)),
        Run("orders", "freshness", at(YESTERDAY, 3)),
        Run("orders", "freshness", at(YESTERDAY, 4), "fail", violations=("error",)),
        Run("orders", "quality", at(YESTERDAY, 5), "fail", 2.0, 75.0, violations=("warning",)),
    )


def report(floe: Any, db: StateDB, *args: str) -> Any:
    return floe("sla", "report", *args, env={"FLOE_STATE_URL": db.url})


def test_json_is_one_object_with_aggregate_column_names(state_db: StateDB, floe: Any) -> None:
    write(state_db, yesterday())
    result = report(floe, state_db, "--format", "json", "--window", "daily")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["since"], document["until"]) == (
        (TODAY - timedelta(days=29)).isoformat(),
        TODAY.isoformat(),
    )
    freshness, quality = document["rows"]
    assert {k: freshness[k] for k in ("contract_name", "check_type", "total_checks")} == {
        "contract_name": "orders",
        "check_type": "freshness",
        "total_checks": 4,
    }
    assert (freshness["passed_checks"], freshness["failed_checks"]) == (3, 1)
    assert (freshness["compliance_pct"], freshness["violation_count"]) == (75.0, 1)
    assert freshness["violations_by_severity"] == {"error": 1}
    assert [w["window_start"] for w in freshness["windows"]] == [YESTERDAY.isoformat()]
    assert (quality["avg_quality_score"], quality["compliance_pct"]) == (75.0, 0.0)


def test_csv_has_a_line_per_row_and_window(state_db: StateDB, floe: Any) -> None:
    write(state_db, yesterday())
    result = report(floe, state_db, "--format", "csv", "--since", YESTERDAY.isoformat())
    assert result.exit_code == 0, result.stderr
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(line["contract_name"], line["check_type"]) for line in lines] == [
        ("orders", "freshness"),
        ("orders", "quality"),
    ]
    assert lines[0]["compliance_pct"] == "75.0"
    assert lines[0]["window_start"] == YESTERDAY.isoformat()


def test_table_for_people(state_db: StateDB, floe: Any) -> None:
    write(state_db, yesterday())
    result = report(floe, state_db, "--contract", "ord*")
    assert result.exit_code == 0, result.stderr
    assert "1 contract for contracts matching 'ord*'" in result.stdout
    assert "75.0%" in result.stdout
    assert "1 error" in result.stdout
    assert "score 75.0" in result.stdout


def test_no_history_says_so_and_succeeds(state_db: StateDB, floe: Any) -> None:
    state_db.upgrade()
    result = report(floe, state_db, "--contract", "orders")
    assert result.exit_code == 0, result.stderr
    assert "No check history for contracts matching 'orders'" in result.stdout
    empty = json.loads(report(floe, state_db, "--format", "json").stdout)
    assert empty["rows"] == []
    assert empty["message"].startswith("No check history from")


def test_output_file_is_written_whole(state_db: StateDB, floe: Any, tmp_path: Path) -> None:
    write(state_db, yesterday())
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "sla.html"
    result = report(floe, state_db, "--format", "html", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"Wrote the html report to {target}" in result.stderr
    page = target.read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in page
    assert [p.name for p in target.parent.iterdir()] == ["sla.html"]  # no temporary file left


def test_bad_input_is_one_message_and_exit_2(state_db: StateDB, floe: Any, tmp_path: Path) -> None:
    state_db.upgrade()
    bad_date = report(floe, state_db, "--since", "last tuesday")
    assert bad_date.exit_code == 2
    assert "'last tuesday' is not a date; write it as YYYY-MM-DD" in bad_date.stderr
    backwards = report(floe, state_db, "--since", "2024-06-10", "--until", "2024-06-01")
    assert backwards.exit_code == 2
    assert "after it ends" in backwards.stderr
    missing = tmp_path / "nowhere" / "sla.json"
    no_folder = report(floe, state_db, "--format", "json", "--output", str(missing))
    assert no_folder.exit_code == 2
    assert not missing.parent.exists()
    assert "Traceback" not in bad_date.stderr + backwards.stderr + no_folder.stderr


def test_purge_rolls_up_and_deletes_past_retention(state_db: StateDB, floe: Any) -> None:
    old = TODAY - timedelta(days=10)
    write(
        state_db,
        yesterday().add(Run("orders", "freshness", at(old, 6), "fail", violations=("error",))),
    )
    args = ("sla", "db", "purge", "--retention-days", "5", "--format", "json")
    dry = json.loads(floe(*args, "--dry-run", env={"FLOE_STATE_URL": state_db.url}).stdout)
    assert (dry["dry_run"], dry["deleted_check_results"], dry["deleted_violations"]) == (True, 1, 1)
    done = floe(*args, env={"FLOE_STATE_URL": state_db.url})
    assert done.exit_code == 0, done.stderr
    purged = json.loads(done.stdout)
    assert purged["purged_days"] == [old.isoformat()]
    assert purged["rolled_up_days"] == [old.isoformat(), YESTERDAY.isoformat()]
    assert (purged["deleted_check_results"], purged["deleted_violations"]) == (1, 1)
    # The purged day still counts in the report, from its daily aggregate.
    document = json.loads(report(floe, state_db, "--format", "json").stdout)
    assert document["aggregates_through"] == YESTERDAY.isoformat()
    assert document["rows"][0]["total_checks"] == 5
    assert document["rows"][0]["failed_checks"] == 2
    again = json.loads(floe(*args, env={"FLOE_STATE_URL": state_db.url}).stdout)
    assert (again["purged_days"], again["deleted_check_results"]) == ([], 0)
    text = floe("sla", "db", "purge", env={"FLOE_STATE_URL": state_db.url})
    assert "Deleted 0 check results and 0 violations" in text.stdout


def test_report_counts_real_check_runs(
    state_db: StateDB, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    state_db.upgrade()
    for _ in range(4):
        check(floe, stale_contract, manifest, state_db.url)
    document = json.loads(report(floe, state_db, "--format", "json", "--window", "daily").stdout)
    [freshness] = document["rows"]
    assert (freshness["contract_name"], freshness["check_type"]) == ("events", "freshness")
    assert (freshness["total_checks"], freshness["failed_checks"]) == (4, 4)
    assert freshness["compliance_pct"] == 0.0
    assert freshness["violations_by_severity"] == {"critical": 1, "error": 3}


def test_no_schedule_reads_alike_in_every_format(state_db: StateDB, floe: Any) -> None:
    # Deprecation has no interval: nothing expected, no coverage, in each format's words.
    write(
        state_db,
        History().add(
            Run("orders", "deprecation", at(YESTERDAY, 1)),
            Run("orders", "deprecation", at(YESTERDAY, 2), "skipped"),
        ),
    )
    since = ("--since", YESTERDAY.isoformat(), "--window", "daily")
    table = report(floe, state_db, *since).stdout
    [line] = [line for line in table.splitlines() if "deprecation" in line]
    cells = [cell.strip() for cell in line.split("\u2502")]
    assert cells[3:5] == ["1/-", "-"]  # executed (the skipped run did not) / expected, coverage
    [row] = json.loads(report(floe, state_db, *since, "--format", "json").stdout)["rows"]
    assert (row["executed_checks"], row["expected_checks"], row["coverage_pct"]) == (1, None, None)
    [line_] = csv.DictReader(io.StringIO(report(floe, state_db, *since, "--format", "csv").stdout))
    assert (line_["executed_checks"], line_["expected_checks"], line_["coverage_pct"]) == (
        "1",
        "",
        "",
    )
    page = report(floe, state_db, *since, "--format", "html").stdout
    assert '<td class="num">1 / \u2013</td><td class="num">\u2013</td>' in page


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_output_file_gets_the_mode_the_umask_gives(
    floe: Any, tmp_path: Path, umask: int, mode: int
) -> None:
    target = tmp_path / "sla.json"
    before = os.umask(umask)
    try:
        result = floe("sla", "report", "--format", "json", "--output", target)
    finally:
        os.umask(before)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert json.loads(target.read_text())["rows"] == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sla")] == []


def test_a_replaced_output_file_keeps_its_mode(floe: Any, tmp_path: Path) -> None:
    target = tmp_path / "sla.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    before = os.umask(0o022)
    try:
        result = floe("sla", "report", "--format", "csv", "--output", target)
    finally:
        os.umask(before)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text().startswith("contract_name,")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    floe: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sla.json"
    target.write_text("old\n")

    def full_disk(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    result = floe("sla", "report", "--format", "json", "--output", target)
    assert result.exit_code == 2
    assert f"cannot write the report to {target}: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir() if "sla" in p.name] == ["sla.json"]
    assert target.read_text() == "old\n"


def test_the_table_rounds_percentages_as_everywhere() -> None:
    from rich.console import Console

    from floe_core.reporting.model import Coverage, ReportRow, SLAReport, Totals, WindowReport
    from floe_core.reporting.tabular import render_table

    # 2,499 of 2,500 passed: 99.96% must not read as 100.0%; 1 of 2,500: not as 0.0%.
    rows = []
    for kind, passed in (("freshness", 2499), ("quality", 1)):
        totals = Totals(2500, passed, 2500 - passed, 0, 1.0, None, None, None, None, 0)
        coverage = Coverage(2500, 2501)
        window = WindowReport(YESTERDAY, YESTERDAY, totals, coverage)
        rows.append(ReportRow("orders", kind, totals, coverage, [window]))
    done = SLAReport(YESTERDAY, YESTERDAY, "daily", datetime.now(UTC), rows)
    out = io.StringIO()
    render_table(done, Console(file=out, width=200, no_color=True), "test")
    text = out.getvalue()
    assert "99.9%" in text  # compliance 99.96, coverage 99.96
    assert "100.0%" not in text
    assert "0.1%" in text  # compliance 0.04
    assert " 0.0%" not in text
    assert " 99.9 " in text  # the window's compliance, without the sign
