"""``floe sla history NAME --delete``: bad runs removed, and what they fed recomputed.

Every test runs on SQLite and on PostgreSQL (``state_db``), with the real CLI. A prompt needs
a terminal: ``at_terminal`` gives the command a standard input that is one, with the
user's answer typed in; the ``floe`` fixture's standard input is not one.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import event

from floe_core.cli.main import cli
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.monitoring.corrections import correct_history
from floe_core.state.corrections import HistorySelection
from floe_core.state.daily import DailyRow, aggregated_rows, daily_rows
from floe_core.state.models import ContractCheckResult, ContractSLAStatus, ContractViolation
from floe_core.state.retention import apply_retention
from tests._factories import (
    ORDERS_PROPERTIES,
    T0,
    check_result,
    odcs,
    registered,
    sla_status,
    table_object,
    violation,
)

from ._synthetic import History, Run
from .conftest import StateDB

FRESHNESS, QUALITY = ViolationType.FRESHNESS, ViolationType.QUALITY
PASS, FAIL = CheckStatus.PASS, CheckStatus.FAIL
ERROR, CRITICAL = ViolationSeverity.ERROR, ViolationSeverity.CRITICAL
#: The morning a misconfigured freshness SLA broke: everything from 07:30 on is wrong.
BAD_FROM = "2024-06-01T07:30Z"


# Writing history -------------------------------------------------------------------------


def freshness_run(
    at: datetime, status: CheckStatus, age: float, severity: ViolationSeverity | None = None
) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """A freshness run of ``orders`` whose table is ``age`` seconds old, against a 1 h SLA."""
    details = {
        "tables": [
            {
                "table": "sales.orders",
                "age_seconds": age,
                "threshold_seconds": 3600.0,
                "consumed_pct": 100 * age / 3600,
                "method": "snapshot",
            }
        ]
    }
    events = [violation(at, severity)] if severity is not None else []
    result = check_result(at, status, violation=events[0] if events else None, details=details)
    return result, events


def quality_run(at: datetime, score: float) -> tuple[CheckResult, list[ContractViolationEvent]]:
    status = PASS if score == 100.0 else FAIL
    return check_result(at, status, QUALITY, details={"quality_score": score}), []


def record(
    db: StateDB,
    runs: Sequence[tuple[CheckResult, list[ContractViolationEvent]]],
    statuses: Sequence[SLAStatus] = (),
) -> None:
    """Write each run through ``StateStore.record_run``; the last one with ``statuses``."""

    async def write() -> None:
        async with db.store() as store:
            for i, (result, events) in enumerate(runs):
                last = i == len(runs) - 1
                await store.record_run(registered(), [result], events, statuses if last else [])

    asyncio.run(write())


def hours_before_t0(hours: float) -> datetime:
    return T0 - timedelta(hours=hours)


@pytest.fixture
def bad_morning(state_db: StateDB) -> StateDB:
    """orders' freshness at T0-6h (pass) and T0-5h (a real breach), then four runs from a
    misconfigured SLA (T0-4h .. T0-1h, the last two escalated), and a quality run at T0-3h.
    The stored statuses are those the bad runs left."""
    record(
        state_db,
        [
            freshness_run(hours_before_t0(6), PASS, 1800.0),
            freshness_run(hours_before_t0(5), FAIL, 7200.0, ERROR),
            freshness_run(hours_before_t0(4), FAIL, 9000.0, ERROR),
            quality_run(hours_before_t0(3), 100.0),
            freshness_run(hours_before_t0(3), FAIL, 9000.0, ERROR),
            freshness_run(hours_before_t0(2), FAIL, 9000.0, CRITICAL),
            freshness_run(hours_before_t0(1), FAIL, 9000.0, CRITICAL),
        ],
        [
            sla_status(FRESHNESS, 9000.0, compliance=100 / 6, failures=5, breaches=5, at=T0),
            sla_status(QUALITY, 100.0, threshold=100.0, compliance=100.0, failures=0, breaches=0),
        ],
    )
    return state_db


def counts(db: StateDB) -> tuple[int, int, int]:
    """Check results, violations and SLA status rows stored."""

    async def count() -> tuple[int, int, int]:
        async with db.store() as store:
            return (
                await db.count(store, ContractCheckResult),
                await db.count(store, ContractViolation),
                await db.count(store, ContractSLAStatus),
            )

    return asyncio.run(count())


def statuses(db: StateDB) -> dict[str, SLAStatus]:
    async def read() -> list[SLAStatus]:
        async with db.store() as store:
            return await store.sla_statuses("orders")

    return {s.check_type.value: s for s in asyncio.run(read())}


# Running the command ----------------------------------------------------------------------


class Keyboard(io.BytesIO):
    """A standard input that is a terminal, holding what the user types."""

    def isatty(self) -> bool:
        return True


def at_terminal(db: StateDB, *args: str, answer: str) -> Any:
    """``floe sla history ...`` run at a terminal where the user answers ``answer``."""
    return CliRunner().invoke(
        cli,
        ["sla", "history", *args],
        input=Keyboard(f"{answer}\n".encode()),
        env={"FLOE_STATE_URL": db.url, "LOGNAME": "alice"},
    )


def history(floe: Any, db: StateDB, *args: str) -> Any:
    return floe("sla", "history", *args, env={"FLOE_STATE_URL": db.url, "LOGNAME": "alice"})


def delete_json(floe: Any, db: StateDB, *args: str) -> dict[str, Any]:
    """``--delete --yes --format json``: the one JSON object it prints."""
    out = history(floe, db, "orders", "--delete", "--yes", "--format", "json", *args)
    assert out.exit_code == 0, out.stderr
    document: dict[str, Any] = json.loads(out.stdout)
    return document


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("floe: WARNING: ")]


# Asking first -----------------------------------------------------------------------------


def test_it_shows_what_it_will_delete_and_deletes_once_confirmed(bad_morning: StateDB) -> None:
    out = at_terminal(bad_morning, "orders", "--delete", "--since", BAD_FROM, answer="y")

    assert out.exit_code == 0, out.stderr + out.stdout
    text = out.stdout
    preview, _, done = text.partition("Delete them? [y/N]")
    assert "About to delete from " in preview
    assert "contract 'orders' recorded from 2024-06-01 07:30:00 UTC up to" in preview
    rows = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in preview.splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        ["freshness", "4 fail", "2 critical, 2 error"],
        ["quality", "1 pass", "-"],  # a run in the range, however it ended
    ]
    assert (
        "5 check results and 4 violations in all, recorded from 2024-06-01 08:00:00 UTC to "
        "2024-06-01 11:00:00 UTC"
    ) in preview
    assert "Deleted 5 check results and 4 violations of contract 'orders'" in done
    assert ", as alice." in done
    assert "No quality run that measured the SLA is left: its SLA status is removed." in done
    assert counts(bad_morning) == (2, 1, 1)
    [line] = warnings_of(out.stderr)
    assert line.startswith("floe: WARNING: history of contract orders corrected by alice at ")
    assert (
        ": removed 5 check results and 4 violations (freshness, quality; 2024-06-01T07:30:00Z .. "
    ) in line
    assert bad_morning.url.split("://")[0] in line  # which database, its password masked


def test_declining_deletes_nothing_and_exits_1(bad_morning: StateDB) -> None:
    before = counts(bad_morning), statuses(bad_morning)

    out = at_terminal(bad_morning, "orders", "--delete", "--since", BAD_FROM, answer="n")

    assert out.exit_code == 1
    assert "About to delete" in out.stdout
    assert out.stderr.strip() == "Nothing deleted."
    assert (counts(bad_morning), statuses(bad_morning)) == before


def test_without_a_terminal_it_refuses_rather_than_asks(bad_morning: StateDB, floe: Any) -> None:
    before = counts(bad_morning)

    out = history(floe, bad_morning, "orders", "--delete", "--since", BAD_FROM)

    assert out.exit_code == 2
    assert out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line.startswith("Error: --delete would remove 5 check result(s) and 4 violation(s)")
    assert "add --yes to delete without asking" in line
    assert counts(bad_morning) == before


def test_yes_deletes_without_asking_and_json_is_one_object(bad_morning: StateDB, floe: Any) -> None:
    out = history(
        floe, bad_morning, "orders", "--delete", "--yes", "--since", BAD_FROM,
        "--until", "2024-06-01T12:00Z", "--check", "freshness", "--format", "json",
    )  # fmt: skip

    assert out.exit_code == 0, out.stderr
    document = json.loads(out.stdout)
    assert list(document) == [
        "state_database", "contract_name", "since", "until", "check_types", "removed",
        "sla_status", "sla_status_removed", "daily_aggregates", "corrected_by", "corrected_at",
    ]  # fmt: skip
    assert document["contract_name"] == "orders"
    assert (document["since"], document["until"]) == (
        "2024-06-01T07:30:00Z",
        "2024-06-01T12:00:00Z",
    )
    assert document["check_types"] == ["freshness"]
    assert document["removed"] == {
        "check_results": 4,
        "violations": 4,
        "first": "2024-06-01T08:00:00Z",
        "last": "2024-06-01T11:00:00Z",
        "check_results_by_status": [{"check_type": "freshness", "status": "fail", "count": 4}],
        "violations_by_severity": [
            {"check_type": "freshness", "severity": "critical", "count": 2},
            {"check_type": "freshness", "severity": "error", "count": 2},
        ],
    }
    assert document["corrected_by"] == "alice"
    assert document["corrected_at"].endswith("Z")
    assert document["daily_aggregates"] == {"rebuilt": [], "removed": [], "kept": []}
    assert len(warnings_of(out.stderr)) == 1


# What is deleted ------------------------------------------------------------------------


def test_check_narrows_the_deletion_to_those_check_types(bad_morning: StateDB, floe: Any) -> None:
    before = statuses(bad_morning)

    document = delete_json(floe, bad_morning, "--since", BAD_FROM, "--check", "quality")

    assert document["check_types"] == ["quality"]
    assert document["removed"]["check_results_by_status"] == [
        {"check_type": "quality", "status": "pass", "count": 1}
    ]
    assert document["removed"]["violations"] == 0
    assert counts(bad_morning) == (6, 5, 1)
    assert statuses(bad_morning) == {"freshness": before["freshness"]}  # left as it was
    assert document["sla_status_removed"] == ["quality"]  # no quality run left at all


def test_the_range_includes_since_and_excludes_until(bad_morning: StateDB, floe: Any) -> None:
    document = delete_json(
        floe, bad_morning, "--since", "2024-06-01T09:00Z", "--until", "2024-06-01T11:00Z",
        "--check", "freshness",
    )  # fmt: skip

    removed = document["removed"]
    assert (removed["first"], removed["last"]) == ("2024-06-01T09:00:00Z", "2024-06-01T10:00:00Z")
    assert removed["check_results"] == 2
    listed = json.loads(
        history(floe, bad_morning, "orders", "--since", "2024-06-01", "--check", "freshness",
                "--format", "json").stdout
    )  # fmt: skip
    assert [r["timestamp"][11:16] for r in listed["results"]] == [
        "11:00",
        "08:00",
        "07:00",
        "06:00",
    ]


def test_the_listing_takes_until_and_check_too(bad_morning: StateDB, floe: Any) -> None:
    out = history(
        floe, bad_morning, "orders", "--since", "2024-06-01", "--until", "2024-06-01T09:00Z",
        "--check", "quality", "--check", "freshness", "--format", "json",
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    listed = json.loads(out.stdout)
    assert [(r["timestamp"][11:16], r["check_type"]) for r in listed["results"]] == [
        ("08:00", "freshness"),
        ("07:00", "freshness"),
        ("06:00", "freshness"),
    ]
    assert len(listed["violations"]) == 2
    only_quality = history(
        floe, bad_morning, "orders", "--since", "2024-06-01", "--check", "quality"
    )
    assert "09:00:00 │ quality" in only_quality.stdout
    assert "freshness" not in only_quality.stdout
    bounded = history(floe, bad_morning, "orders", "--since", "2024-06-01",
                      "--until", "2024-06-01T09:00Z")  # fmt: skip
    assert "(Up to 2024-06-01 09:00:00 UTC, --until.)" in bounded.stdout


# What is recomputed ----------------------------------------------------------------------


def test_sla_status_is_recomputed_from_the_history_that_remains(
    bad_morning: StateDB, floe: Any
) -> None:
    document = delete_json(floe, bad_morning, "--since", BAD_FROM, "--check", "freshness")

    # As the monitor stored it after its last remaining run (T0-5h): that run failed and
    # breached, after one passing run within 24 h.
    expected = SLAStatus(
        contract_name="orders",
        check_type=FRESHNESS,
        current_value=7200.0,
        threshold=3600.0,
        compliance_pct=50.0,
        last_check_time=hours_before_t0(5),
        consecutive_failures=1,
        violation_count_24h=1,
        window_start=hours_before_t0(5 + 24),
    )
    assert statuses(bad_morning)["freshness"] == expected
    assert document["sla_status"] == [expected.model_dump(mode="json")]
    assert document["sla_status_removed"] == []
    assert statuses(bad_morning)["quality"].compliance_pct == 100.0  # not touched
    shown = json.loads(
        floe("sla", "status", "orders", "--format", "json",
             env={"FLOE_STATE_URL": bad_morning.url}).stdout
    )  # fmt: skip
    assert shown["statuses"][0]["consecutive_failures"] == 1


def test_a_check_type_left_without_measured_runs_loses_its_status(
    bad_morning: StateDB, floe: Any
) -> None:
    document = delete_json(floe, bad_morning, "--since", "2024-06-01", "--check", "freshness")

    assert document["removed"]["check_results"] == 6
    assert document["sla_status_removed"] == ["freshness"]
    assert set(statuses(bad_morning)) == {"quality"}
    gone = history(floe, bad_morning, "orders", "--since", "2024-06-01", "--check", "freshness")
    assert "No check results or violations recorded for contract 'orders'" in gone.stdout


NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
PURGED, D2, D3, TODAY = date(2024, 6, 1), date(2024, 6, 8), date(2024, 6, 9), NOW.date()


def on(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def rolled_up_history(db: StateDB) -> None:
    """Runs on four days; retention (5 days, at NOW) rolls up all but today, purges PURGED."""
    runs = History().add(
        Run("orders", "freshness", on(PURGED, 1)),
        Run("orders", "freshness", on(PURGED, 2), "fail", violations=("error",)),
        Run("orders", "freshness", on(D2, 1), duration=2.0),
        Run("orders", "freshness", on(D2, 2), "fail", 4.0, violations=("error",)),
        Run("orders", "freshness", on(D2, 3), "fail", 6.0, violations=("error",)),
        Run("orders", "quality", on(D2, 4), "fail", 1.0, 50.0, violations=("warning",)),
        Run("payments", "freshness", on(D2, 3), "fail", violations=("error",)),
        Run("orders", "freshness", on(D3, 5), "fail", violations=("error",)),
        Run("orders", "freshness", on(TODAY, 1), "fail", violations=("error",)),
    )

    async def write() -> None:
        async with db.store() as store:
            await runs.write(store)
            await apply_retention(store.engine, 5, now=NOW)

    asyncio.run(write())


def aggregates(db: StateDB) -> tuple[list[DailyRow], list[DailyRow]]:
    """The stored aggregates of every day, and the days still in raw rows rolled up afresh."""

    async def read() -> tuple[list[DailyRow], list[DailyRow]]:
        async with db.store() as store, store.engine.connect() as conn:
            return (
                await aggregated_rows(conn, date.min, date.max),
                await daily_rows(conn, D2, D3),
            )

    return asyncio.run(read())


def test_rolled_up_days_are_rolled_up_again_from_what_remains(state_db: StateDB, floe: Any) -> None:
    rolled_up_history(state_db)
    stored_before, _ = aggregates(state_db)

    document = delete_json(
        floe, state_db, "--since", "2024-06-08T02:30Z", "--until", "2024-06-10T02:00Z"
    )

    assert document["removed"]["check_results"] == 4  # D2 03:00 and 04:00, D3, today
    assert document["daily_aggregates"] == {
        "rebuilt": [{"check_type": "freshness", "date": "2024-06-08"}],
        "removed": [
            {"check_type": "freshness", "date": "2024-06-09"},
            {"check_type": "quality", "date": "2024-06-08"},
        ],
        "kept": [],
    }
    stored, fresh = aggregates(state_db)
    assert [r for r in stored if r.date >= D2] == fresh  # what reports read = the raw rows
    kept = DailyRow.of("orders", "freshness", D2, 2, 1, 1, 0, 3.0, None, None, None, None, 1)
    assert kept in stored
    assert [r for r in stored if r.date == PURGED] == [r for r in stored_before if r.date == PURGED]
    assert [r for r in stored if r.contract_name == "payments"] == [
        r for r in stored_before if r.contract_name == "payments"
    ]


def test_days_whose_raw_rows_were_purged_keep_their_aggregates(
    state_db: StateDB, floe: Any
) -> None:
    rolled_up_history(state_db)
    stored_before, _ = aggregates(state_db)
    args = ("orders", "--delete", "--yes", "--since", "2024-06-01", "--until", "2024-06-02")

    document = delete_json(floe, state_db, *args[3:])
    table = history(floe, state_db, *args)

    assert document["removed"]["check_results"] == 0
    assert document["daily_aggregates"]["kept"] == ["2024-06-01"]
    assert document["corrected_by"] is None  # nothing was corrected
    assert table.exit_code == 0
    assert "Nothing to delete: no check results or violations of contract 'orders'" in table.stdout
    assert "Kept as they are: the daily aggregates of 2024-06-01." in table.stdout
    assert warnings_of(table.stderr) == []
    assert aggregates(state_db)[0] == stored_before


# Escalation and the report read the corrected history --------------------------------------


def test_escalation_and_the_report_read_the_corrected_history(
    state_db: StateDB,
    floe: Any,
    catalog: Any,
    manifest: Path,
    write_contract: Callable[..., Path],
) -> None:
    # sales.orders is not in the catalog: every availability probe fails (ERROR).
    sla = [{"property": "availability", "value": "99.9%"}]
    contract = write_contract(
        yaml.safe_dump(odcs(table_object("sales.orders", ORDERS_PROPERTIES), sla=sla))
    )
    env = {"FLOE_STATE_URL": state_db.url}
    state_db.upgrade()

    def check() -> str:
        out = floe("sla", "check", contract, "--manifest", manifest, "--check", "availability",
                   "--format", "json", env=env)  # fmt: skip
        assert out.exit_code == 1, out.stderr
        [found] = json.loads(out.stdout)["violations"]
        severity: str = found["severity"]
        return severity

    def report_row() -> tuple[int, int]:
        out = floe("sla", "report", "--format", "json", env=env)
        assert out.exit_code == 0, out.stderr
        [row] = json.loads(out.stdout)["rows"]
        return row["total_checks"], row["violation_count"]

    assert [check() for _ in range(4)] == ["error", "error", "error", "critical"]
    assert report_row() == (4, 4)

    document = delete_json(floe, state_db, "--since", "1h", "--check", "availability")

    assert document["removed"]["check_results"] == 4
    assert document["sla_status_removed"] == ["availability"]
    assert check() == "error"  # the first breach in the window again, not the fifth
    assert report_row() == (1, 1)
    [status] = statuses(state_db).values()
    assert (status.consecutive_failures, status.violation_count_24h) == (1, 1)
    assert status.current_value == 0.0  # uptime of the one probe left


# Mistakes ------------------------------------------------------------------------------


def test_an_unknown_contract_is_an_error(bad_morning: StateDB, floe: Any) -> None:
    out = history(floe, bad_morning, "ordres", "--delete", "--yes", "--since", "7d")
    assert out.exit_code == 2
    [line] = out.stderr.splitlines()
    assert line.startswith("Error: contract 'ordres' has nothing recorded in the state database")
    assert "`floe sla status` lists the contracts" in line


def test_nothing_in_the_range_is_said_plainly(bad_morning: StateDB, floe: Any) -> None:
    out = history(floe, bad_morning, "orders", "--delete", "--since", "2024-06-02")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.startswith(
        "Nothing to delete: no check results or violations of contract 'orders' recorded "
        "from 2024-06-02 00:00:00 UTC up to "
    )
    assert out.stderr == ""
    assert counts(bad_morning) == (7, 5, 2)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--since", "last week"), "'last week' is not a time floe understands"),
        (("--since", "6h", "--until", "someday"), "'someday' is not a time floe understands"),
        ((), "--delete needs --since"),
        (("--since", "2024-06-02", "--until", "2024-06-01"), "is not after --since"),
        (("--since", "6h", "--limit", "3"), "--limit only caps the listing"),
        (("--since", "6h", "--check", "freshnes"), "'freshnes' is not one of"),
    ],
)
def test_bad_options_exit_2_and_delete_nothing(
    bad_morning: StateDB, floe: Any, args: tuple[str, ...], says: str
) -> None:
    out = history(floe, bad_morning, "orders", "--delete", "--yes", *args)
    assert out.exit_code == 2
    assert says in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert counts(bad_morning) == (7, 5, 2)


def test_yes_goes_only_with_delete(bad_morning: StateDB, floe: Any) -> None:
    out = history(floe, bad_morning, "orders", "--yes")
    assert out.exit_code == 2
    assert "--yes only goes with --delete" in out.stderr


def test_an_unreachable_database_is_one_masked_error(floe: Any, closed_port: int) -> None:
    url = f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"
    out = floe("sla", "history", "orders", "--delete", "--yes", "--since", "1h",
               "--format", "json", env={"FLOE_STATE_URL": url})  # fmt: skip
    assert out.exit_code == 2
    assert out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line.startswith("Error: cannot connect to the state database")
    assert "s3cret" not in line
    assert f"floe:***@127.0.0.1:{closed_port}" in line


def test_a_database_not_upgraded_says_how_to_fix_it(floe: Any, postgresql_state_url: str) -> None:
    out = floe("sla", "history", "orders", "--delete", "--yes", "--since", "1h",
               env={"FLOE_STATE_URL": postgresql_state_url})  # fmt: skip
    assert out.exit_code == 2
    assert "floe sla db upgrade" in out.stderr
    assert out.stdout == ""


# From Python -------------------------------------------------------------------------------


def test_one_transaction_a_failure_half_way_changes_nothing(bad_morning: StateDB) -> None:
    class Interrupted(Exception):
        pass

    def interrupt(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CONTRACT_SLA_STATUS"):
            raise Interrupted  # after the deletes, before the commit

    before = counts(bad_morning), statuses(bad_morning)
    selection = HistorySelection("orders", hours_before_t0(4.5), T0, (FRESHNESS,))

    async def correct() -> None:
        async with bad_morning.store() as store:
            event.listen(store.engine.sync_engine, "before_cursor_execute", interrupt)
            await correct_history(store, selection)

    with pytest.raises(Interrupted):
        asyncio.run(correct())
    assert (counts(bad_morning), statuses(bad_morning)) == before


def test_the_correction_is_logged_with_who_and_when(
    bad_morning: StateDB, caplog: pytest.LogCaptureFixture
) -> None:
    selection = HistorySelection("orders", hours_before_t0(4.5), T0, (FRESHNESS,))
    when = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)

    async def correct() -> Any:
        async with bad_morning.store() as store:
            return await correct_history(store, selection, by="bob", now=when), store.display

    with caplog.at_level(logging.WARNING, logger="floe_core.monitoring.corrections"):
        correction, display = asyncio.run(correct())

    assert correction.corrected_by == "bob"
    [record_] = caplog.records
    assert record_.levelno == logging.WARNING
    assert record_.getMessage() == (
        "history of contract orders corrected by bob at 2026-12-05T01:30:00Z: removed 4 check "
        "results and 4 violations (freshness; 2024-06-01T07:30:00Z .. 2024-06-01T12:00:00Z) "
        f"in {display}"
    )


def test_the_range_must_not_end_before_it_starts() -> None:
    from floe_core.errors import InputError

    with pytest.raises(InputError, match=r"ends .* before it starts"):
        HistorySelection("orders", T0, T0)
