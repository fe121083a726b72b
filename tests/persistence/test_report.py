"""``build_report``: every number checked against synthetic histories whose answers are known."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from floe_core.config import CheckIntervalConfig, MonitoringConfig
from floe_core.errors import InputError
from floe_core.reporting.build import build_report, windows
from floe_core.reporting.model import SLAReport, trend
from floe_core.state.retention import apply_retention
from tests._factories import registered

from ._synthetic import History, Run
from .conftest import StateDB

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)  # a Monday
SAT, SUN, MON, TUE = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3), date(2024, 6, 4)
TODAY = NOW.date()


def at(day: date, minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)


def every(contract: str, kind: str, day: date, step: int, statuses: str, **extra: Any) -> list[Run]:
    """One run per ``step`` minutes from midnight; statuses as letters p(ass) f(ail) e(rror)."""
    names = {"p": "pass", "f": "fail", "e": "error", "s": "skipped"}
    runs = []
    for i, letter in enumerate(statuses):
        violations = ("error",) if letter == "f" else ()
        runs.append(
            Run(
                contract,
                kind,
                at(day, i * step),
                names[letter],
                1.0,
                **extra,
                violations=violations,
            )
        )
    return runs


def known_history() -> History:
    history = History()
    # freshness every 15 min: Saturday 96 runs (90 pass, 6 fail); Sunday 48 runs, all pass;
    # Monday 96 runs (48 pass, 46 fail, 2 errors); today (raw) 4 runs, 3 pass 1 fail.
    history.add(*every("orders", "freshness", SAT, 15, "p" * 90 + "f" * 6))
    history.add(*every("orders", "freshness", SUN, 15, "p" * 48))
    history.add(*every("orders", "freshness", MON, 15, "p" * 48 + "f" * 46 + "e" * 2))
    history.add(*every("orders", "freshness", TODAY, 15, "pppf"))
    # quality every 6 h on Saturday and Monday, scores known.
    for day, scores in ((SAT, (100.0, 90.0, 80.0, 70.0)), (MON, (60.0, 60.0, 60.0, 60.0))):
        for i, score in enumerate(scores):
            status = "pass" if score >= 80 else "fail"
            violations = ("warning",) if status == "fail" else ()
            history.add(
                Run("orders", "quality", at(day, i * 360), status, 2.0, score, None, violations)
            )
    # availability every 5 min on Sunday: 288 probes, 12 failed (first hour down).
    for i in range(288):
        ok = i >= 12
        violations = () if ok else ("critical",) if i == 11 else ("error",)
        history.add(
            Run(
                "orders",
                "availability",
                at(SUN, i * 5),
                "pass" if ok else "fail",
                0.5,
                None,
                ok,
                violations,
            )
        )
    history.add(*every("payments", "freshness", SUN, 60, "pf"))
    return history


async def report_of(db: StateDB, history: History | None, **kwargs: Any) -> SLAReport:
    async with db.store() as store:
        if history is not None:
            await history.write(store)
        retention = kwargs.pop("retention", None)
        if retention is not None:
            await apply_retention(store.engine, retention, now=NOW)
        return await build_report(store, now=NOW, **kwargs)


def report(db: StateDB, history: History | None = None, **kwargs: Any) -> SLAReport:
    return asyncio.run(report_of(db, history, **kwargs))


def row(report: SLAReport, contract: str, kind: str) -> dict[str, Any]:
    [found] = [
        r.to_dict() for r in report.rows if (r.contract_name, r.check_type) == (contract, kind)
    ]
    return found


def test_totals_compliance_coverage_and_violations_of_the_whole_period(state_db: StateDB) -> None:
    done = report(state_db, known_history(), since=SAT, until=TODAY, window="weekly")
    freshness = row(done, "orders", "freshness")
    assert {
        k: freshness[k] for k in ("total_checks", "passed_checks", "failed_checks", "error_checks")
    } == {
        "total_checks": 96 + 48 + 96 + 4,
        "passed_checks": 90 + 48 + 48 + 3,
        "failed_checks": 6 + 46 + 1,
        "error_checks": 2,
    }
    assert freshness["compliance_pct"] == round(100 * 189 / 242, 2)
    assert freshness["violation_count"] == 53
    assert freshness["violations_by_severity"] == {"error": 53}
    # 10 whole days (Sat-Mon 9th) of 96 each, plus today 00:00-12:00: 48.
    assert freshness["expected_checks"] == 9 * 96 + 48
    assert freshness["coverage_pct"] == round(100 * 244 / (9 * 96 + 48), 2)
    assert freshness["avg_duration_seconds"] == 1.0

    quality = row(done, "orders", "quality")
    assert (quality["min_quality_score"], quality["max_quality_score"]) == (60.0, 100.0)
    assert quality["avg_quality_score"] == 72.5  # (340 + 240) / 8
    assert quality["violations_by_severity"] == {"warning": 5}

    availability = row(done, "orders", "availability")
    assert availability["uptime_pct"] == round(100 * 276 / 288, 2)
    assert availability["violations_by_severity"] == {"critical": 1, "error": 11}

    [orders, payments] = done.to_dict()["contracts"]
    assert orders["contract_name"] == "orders"
    assert orders["freshness_compliance_pct"] == freshness["compliance_pct"]
    assert orders["uptime_pct"] == availability["uptime_pct"]
    assert orders["violations_by_type"]["availability"] == {"critical": 1, "error": 11}
    assert payments["compliance_pct"] == 50.0


def test_weekly_windows_follow_iso_weeks_and_say_their_trend(state_db: StateDB) -> None:
    done = report(state_db, known_history(), since=SAT, until=TODAY, window="weekly")
    windows_ = row(done, "orders", "freshness")["windows"]
    assert [(w["window_start"], w["window_end"]) for w in windows_] == [
        ("2024-06-01", "2024-06-02"),
        ("2024-06-03", "2024-06-09"),
        ("2024-06-10", "2024-06-10"),
    ]
    assert [w["total_checks"] for w in windows_] == [144, 96, 4]
    assert [w["compliance_pct"] for w in windows_] == [
        round(100 * 138 / 144, 2),
        round(100 * 48 / 94, 2),
        75.0,
    ]
    assert [w["expected_checks"] for w in windows_] == [192, 672, 48]
    assert [w["trend"] for w in windows_] == [None, "degrading", "improving"]
    assert row(done, "orders", "freshness")["trend"] == "improving"
    assert row(done, "orders", "quality")["quality_score_trend"] == "degrading"  # 85 -> 60


def test_daily_and_monthly_windows(state_db: StateDB) -> None:
    daily = report(state_db, known_history(), since=SAT, until=MON, window="daily")
    assert [w["compliance_pct"] for w in row(daily, "orders", "freshness")["windows"]] == [
        93.75,
        100.0,
        round(100 * 48 / 94, 2),
    ]
    assert windows(date(2024, 5, 20), date(2024, 7, 3), "monthly") == [
        (date(2024, 5, 20), date(2024, 5, 31)),
        (date(2024, 6, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 7, 3)),
    ]
    assert windows(date(2024, 12, 30), date(2025, 1, 2), "monthly")[-1] == (
        date(2025, 1, 1),
        date(2025, 1, 2),
    )


@pytest.mark.parametrize("window", ["daily", "weekly", "monthly"])
def test_aggregates_and_raw_rows_give_the_same_report(state_db: StateDB, window: str) -> None:
    since = date(2024, 5, 27)  # a Monday in May: weeks and months both cut by the period
    raw = report(state_db, known_history(), since=since, until=TODAY, window=window)
    assert raw.aggregates_through is None
    again = asyncio.run(_rolled_up_report(state_db, since, window))
    assert again.aggregates_through == MON  # the newest day with history before today
    assert _without_source(again.to_dict()) == _without_source(raw.to_dict())


async def _rolled_up_report(db: StateDB, since: date, window: Any) -> SLAReport:
    # The same database: history written by the first report, now rolled up (nothing purged).
    async with db.store() as store:
        await apply_retention(store.engine, 90, now=NOW)
        return await build_report(store, since=since, until=TODAY, window=window, now=NOW)


def _without_source(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in {"aggregates_through", "generated_at"}}


def test_purged_days_are_served_by_their_aggregates(state_db: StateDB) -> None:
    kept = report(state_db, known_history(), since=SAT, until=TODAY, window="weekly")
    purged = asyncio.run(_purged_report(state_db))
    before, after = row(kept, "orders", "freshness"), row(purged, "orders", "freshness")
    for column in (
        "total_checks",
        "passed_checks",
        "failed_checks",
        "violation_count",
        "compliance_pct",
    ):
        assert after[column] == before[column]
    assert after["windows"] == before["windows"]
    # Severities come from raw violations: only today's (one fail) are left.
    assert after["violations_by_severity"] == {"error": 1}


async def _purged_report(db: StateDB) -> SLAReport:
    async with db.store() as store:
        await apply_retention(store.engine, 1, now=NOW)
        return await build_report(store, since=SAT, until=TODAY, window="weekly", now=NOW)


def test_coverage_of_an_unregistered_contract_uses_the_configured_intervals(
    state_db: StateDB,
) -> None:
    history = History().add(*every("orders", "freshness", SUN, 30, "p" * 48))
    config = MonitoringConfig(check_intervals=CheckIntervalConfig(freshness_minutes=30))
    done = report(state_db, history, since=SUN, until=SUN, window="daily", config=config)
    assert (
        row(done, "orders", "freshness")["expected_checks"],
        row(done, "orders", "freshness")["coverage_pct"],
    ) == (
        48,
        100.0,
    )
    default = report(state_db, None, since=SUN, until=SUN, window="daily")
    assert row(default, "orders", "freshness")["coverage_pct"] == 50.0  # 48 of 96


def test_contracts_by_name_and_glob(state_db: StateDB) -> None:
    one = report(state_db, known_history(), since=SAT, until=TODAY, contracts="payments")
    assert {r.contract_name for r in one.rows} == {"payments"}
    glob = report(state_db, None, since=SAT, until=TODAY, contracts="or*")
    assert {r.contract_name for r in glob.rows} == {"orders"}
    bracket = report(state_db, None, since=SAT, until=TODAY, contracts="[op]*s")
    assert {r.contract_name for r in bracket.rows} == {"orders", "payments"}
    none = report(state_db, None, since=SAT, until=TODAY, contracts="pay_ents")
    assert none.empty  # "_" is no wildcard


def test_no_history_says_so(state_db: StateDB) -> None:
    done = report(state_db, None, since=SAT, until=TODAY)
    assert done.empty
    assert done.message == "No check history from 2024-06-01 to 2024-06-10 in the state database."
    assert done.to_dict()["rows"] == []


def test_defaults_are_the_last_thirty_days_in_weekly_windows(state_db: StateDB) -> None:
    done = report(state_db, None)
    assert (done.since, done.until, done.window) == (TODAY - timedelta(days=29), TODAY, "weekly")


def test_a_period_that_ends_before_it_starts_is_refused(state_db: StateDB) -> None:
    with pytest.raises(InputError, match=r"starts .* after it ends"):
        report(state_db, None, since=TODAY, until=SAT)


def test_trend_rule() -> None:
    assert trend(None, 50.0) is None
    assert trend(50.0, None) is None
    assert trend(50.0, 51.0) == "improving"
    assert trend(50.0, 50.99) == "stable"
    assert trend(50.0, 49.0) == "degrading"


def test_monitor_report_uses_its_store(state_db: StateDB) -> None:
    from floe_core.monitoring.monitor import ContractMonitor

    async def run() -> SLAReport:
        async with state_db.store() as store:
            await known_history().write(store)
            monitor = ContractMonitor(state=store, clock=lambda: NOW)
            return await monitor.report(since=SUN, until=SUN, window="daily", contracts="payments")

    done = asyncio.run(run())
    assert row(done, "payments", "freshness")["compliance_pct"] == 50.0


def test_a_registered_contract_is_expected_from_its_registration_with_its_overrides(
    state_db: StateDB,
) -> None:
    # Registered on Sunday at 12:00 with freshness every 60 min; it ran 12 times that day.
    overrides = MonitoringConfig(check_intervals=CheckIntervalConfig(freshness_minutes=60))
    contract = registered("orders", at=at(SUN, 12 * 60), overrides=overrides)
    history = History().add(*every("orders", "freshness", SUN, 60, "p" * 24)[12:])

    async def run() -> SLAReport:
        async with state_db.store() as store:
            await store.register_contract(contract)
            await history.write(store)
            return await build_report(store, since=SAT, until=MON, window="daily", now=NOW)

    freshness = row(asyncio.run(run()), "orders", "freshness")
    # Saturday: not registered yet, nothing expected; Sunday from 12:00: 12; Monday: 24.
    assert freshness["expected_checks"] == 12 + 24
    assert [w["expected_checks"] for w in freshness["windows"]] == [12]  # Sunday, the one run
    assert freshness["windows"][0]["coverage_pct"] == 100.0
    assert freshness["coverage_pct"] == round(100 * 12 / 36, 2)


def test_totals_of_one_day_weigh_as_totals_of_many() -> None:
    from floe_core.reporting.model import Totals
    from floe_core.state.daily import DailyRow

    errored = DailyRow.of("orders", "quality", SAT, 2, 0, 0, 2, 1.5, 50.0, 50.0, 50.0, None, 0)
    scored = DailyRow.of("orders", "quality", SUN, 2, 1, 1, 0, 0.5, 60.0, 80.0, 70.0, 90.0, 1)
    empty = DailyRow.of("orders", "quality", MON)
    for row in (errored, scored):
        assert Totals.of([row]) == Totals.of([row, empty])
    assert Totals.of([errored]).avg_quality_score is None  # no run measured: no weight
    assert Totals.of([errored, scored]) == Totals(4, 1, 1, 2, 1.0, 50.0, 80.0, 70.0, 90.0, 1)


def test_coverage_counts_runs_that_executed_and_not_skipped_ones(state_db: StateDB) -> None:
    # Quality every 6 h (the default): 4 runs due on Sunday. orders skipped all four;
    # payments passed, failed, errored (attempted: it counts) and skipped once.
    history = History().add(
        *every("orders", "quality", SUN, 360, "ssss"),
        *every("payments", "quality", SUN, 360, "pfes"),
    )
    done = report(state_db, history, since=SUN, until=SUN, window="daily")
    skipped, mixed = row(done, "orders", "quality"), row(done, "payments", "quality")
    assert (skipped["total_checks"], skipped["skipped_checks"]) == (4, 4)
    assert (skipped["executed_checks"], skipped["expected_checks"]) == (0, 4)
    assert skipped["coverage_pct"] == 0.0
    assert (mixed["executed_checks"], mixed["expected_checks"], mixed["coverage_pct"]) == (
        3,
        4,
        75.0,
    )
    [window] = mixed["windows"]
    assert (window["executed_checks"], window["expected_checks"], window["coverage_pct"]) == (
        3,
        4,
        75.0,
    )


def test_a_check_type_without_a_schedule_expects_nothing(state_db: StateDB) -> None:
    # Deprecation has no interval; nothing is on a schedule when monitoring runs on demand.
    history = History().add(
        *every("orders", "deprecation", SUN, 60, "pp"),
        *every("orders", "quality", SUN, 60, "pppp"),
    )
    done = report(state_db, history, since=SUN, until=SUN, window="daily")
    on_demand = report(
        state_db,
        None,
        since=SUN,
        until=SUN,
        window="daily",
        config=MonitoringConfig(mode="on_demand"),
    )
    for found, executed in (
        (row(done, "orders", "deprecation"), 2),
        (row(on_demand, "orders", "deprecation"), 2),
        (row(on_demand, "orders", "quality"), 4),
    ):
        assert (found["executed_checks"], found["expected_checks"], found["coverage_pct"]) == (
            executed,
            None,
            None,
        )
        assert [(w["expected_checks"], w["coverage_pct"]) for w in found["windows"]] == [
            (None, None)
        ]
    assert row(done, "orders", "quality")["expected_checks"] == 4  # scheduled: every 6 h
    [deprecation] = [r for r in done.rows if r.check_type == "deprecation"]
    assert deprecation.coverage.text() == "2/-"


def test_a_window_before_registration_expects_nothing(state_db: StateDB) -> None:
    # Checked by hand on Sunday, registered on Monday at 00:00 with freshness every 60 min.
    overrides = MonitoringConfig(check_intervals=CheckIntervalConfig(freshness_minutes=60))
    contract = registered("orders", at=at(MON, 0), overrides=overrides)
    history = History().add(
        *every("orders", "freshness", SUN, 60, "pppp"),
        *every("orders", "freshness", MON, 60, "p" * 24),
    )

    async def run() -> SLAReport:
        async with state_db.store() as store:
            await store.register_contract(contract)
            await history.write(store)
            return await build_report(store, since=SUN, until=MON, window="daily", now=NOW)

    freshness = row(asyncio.run(run()), "orders", "freshness")
    assert [(w["executed_checks"], w["expected_checks"]) for w in freshness["windows"]] == [
        (4, None),
        (24, 24),
    ]
    assert freshness["windows"][0]["coverage_pct"] is None
    assert freshness["expected_checks"] == 24


def test_the_first_run_is_due_when_monitoring_starts(state_db: StateDB) -> None:
    # Registered half an hour ago and checked at once: the quality run (every 6 h) and the
    # first two freshness runs (every 15 min, at 0 and 15 minutes) were due, not "0 expected".
    contract = registered("orders", at=NOW - timedelta(minutes=30))
    history = History().add(
        Run("orders", "quality", NOW - timedelta(minutes=29), quality_score=90.0),
        Run("orders", "freshness", NOW - timedelta(minutes=29)),
    )

    async def run() -> SLAReport:
        async with state_db.store() as store:
            await store.register_contract(contract)
            await history.write(store)
            return await build_report(store, since=TODAY, window="daily", now=NOW)

    done = asyncio.run(run())
    quality, freshness = row(done, "orders", "quality"), row(done, "orders", "freshness")
    assert (quality["executed_checks"], quality["expected_checks"]) == (1, 1)
    assert quality["coverage_pct"] == 100.0
    assert (freshness["executed_checks"], freshness["expected_checks"]) == (1, 2)
