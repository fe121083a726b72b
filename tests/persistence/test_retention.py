"""Retention: complete days roll up into contract_daily_aggregates before expired rows go."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from floe_core._time import as_utc
from floe_core.state.daily import DailyRow, aggregated_rows, daily_rows
from floe_core.state.models import ContractCheckResult, ContractDailyAggregate, ContractViolation
from floe_core.state.retention import RetentionResult, apply_retention
from floe_core.state.store import StateStore

from ._synthetic import History, Run
from .conftest import StateDB

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
D1, D2, TODAY = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 10)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def known_history() -> History:
    return History().add(
        Run("orders", "freshness", at(D1, 0), "pass", 1.0),
        Run("orders", "freshness", at(D1, 6), "pass", 2.0),
        Run("orders", "freshness", at(D1, 12), "fail", 3.0, violations=("error",)),
        Run("orders", "freshness", at(D1, 23, 59, 59), "error", 6.0),
        Run("orders", "quality", at(D1, 1), "pass", 10.0, quality_score=100.0),
        Run("orders", "quality", at(D1, 7), "fail", 20.0, 70.0, violations=("warning", "error")),
        Run("orders", "availability", at(D1, 2), "pass", 0.1, probe_ok=True),
        Run("orders", "availability", at(D1, 3), "pass", 0.1, probe_ok=True),
        Run(
            "orders", "availability", at(D1, 4), "fail", 0.1, probe_ok=False, violations=("error",)
        ),
        Run("orders", "availability", at(D1, 5), "error", 0.1),
        Run("payments", "freshness", at(D2, 0), "pass", 0.5),
        Run("orders", "freshness", at(TODAY, 1), "fail", 1.0, violations=("critical",)),
    )


EXPECTED_D1 = [
    DailyRow.of("orders", "availability", D1, 4, 2, 1, 1, 0.1, None, None, None, 200 / 3, 1),
    DailyRow.of("orders", "freshness", D1, 4, 2, 1, 1, 3.0, None, None, None, None, 1),
    DailyRow.of("orders", "quality", D1, 2, 1, 1, 0, 15.0, 70.0, 100.0, 85.0, None, 2),
]
EXPECTED_D2 = [DailyRow.of("payments", "freshness", D2, 1, 1, 0, 0, 0.5)]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def with_history(db: StateDB, body: Any, history: History | None = None) -> Any:
    async with db.store() as store:
        await (history or known_history()).write(store)
        return await body(store)


async def stored_aggregates(store: StateStore) -> list[DailyRow]:
    async with store.engine.connect() as conn:
        return await aggregated_rows(conn, date.min, date.max)


async def count(store: StateStore, model: type[Any]) -> int:
    return await StateDB.count(store, model)


def approx_rows(rows: list[DailyRow]) -> list[tuple[Any, ...]]:
    return [
        tuple(round(v, 9) if isinstance(v, float) else v for v in vars(r).values()) for r in rows
    ]


def test_complete_days_roll_up_exactly_and_today_waits(state_db: StateDB) -> None:
    async def body(store: StateStore) -> tuple[RetentionResult, list[DailyRow], int]:
        done = await apply_retention(store.engine, 90, now=NOW)
        return done, await stored_aggregates(store), await count(store, ContractCheckResult)

    done, aggregates, results = run(with_history(state_db, body))
    assert approx_rows(aggregates) == approx_rows(EXPECTED_D1 + EXPECTED_D2)
    assert done.rolled_up_days == [D1, D2]
    assert done.aggregate_rows == 4
    assert (done.purged_days, done.deleted_results, done.deleted_violations) == ([], 0, 0)
    assert results == 12  # nothing older than 90 days: every raw row stays


def test_raw_rows_and_aggregates_agree_day_by_day(state_db: StateDB) -> None:
    async def body(store: StateStore) -> tuple[list[DailyRow], list[DailyRow]]:
        async with store.engine.connect() as conn:
            raw = await daily_rows(conn, D1, D2)
        await apply_retention(store.engine, 90, now=NOW)
        return raw, await stored_aggregates(store)

    raw, aggregates = run(with_history(state_db, body))
    assert approx_rows(raw) == approx_rows(aggregates)


def test_expired_days_are_rolled_up_then_purged_and_a_second_pass_changes_nothing(
    state_db: StateDB,
) -> None:
    async def body(store: StateStore) -> tuple[RetentionResult, RetentionResult, list[Any]]:
        first = await apply_retention(store.engine, 5, now=NOW)
        second = await apply_retention(store.engine, 5, now=NOW)
        left = [
            await stored_aggregates(store),
            await count(store, ContractCheckResult),
            await count(store, ContractViolation),
        ]
        return first, second, left

    first, second, (aggregates, results, violations) = run(with_history(state_db, body))
    assert first.cutoff == date(2024, 6, 5)
    assert first.purged_days == [D1, D2]
    assert (first.deleted_results, first.deleted_violations) == (11, 4)
    assert (results, violations) == (1, 1)  # today's run and its violation
    assert approx_rows(aggregates) == approx_rows(EXPECTED_D1 + EXPECTED_D2)
    assert (second.rolled_up_days, second.purged_days, second.deleted_results) == ([], [], 0)


def test_dry_run_counts_without_writing(state_db: StateDB) -> None:
    async def body(store: StateStore) -> tuple[RetentionResult, list[Any]]:
        done = await apply_retention(store.engine, 5, now=NOW, dry_run=True)
        left = [
            await count(store, ContractDailyAggregate),
            await count(store, ContractCheckResult),
            await count(store, ContractViolation),
        ]
        return done, left

    done, left = run(with_history(state_db, body))
    assert done.dry_run
    assert (done.rolled_up_days, done.aggregate_rows) == ([D1, D2], 4)
    assert (done.purged_days, done.deleted_results, done.deleted_violations) == ([D1, D2], 11, 4)
    assert left == [0, 12, 5]


def test_an_interrupted_pass_leaves_whole_days_and_the_next_pass_finishes(
    state_db: StateDB,
) -> None:
    class Interrupted(Exception):
        pass

    async def body(store: StateStore) -> tuple[list[Any], list[Any]]:
        deletes = 0

        def interrupt(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            nonlocal deletes
            if statement.lstrip().upper().startswith("DELETE FROM CONTRACT_CHECK_RESULTS"):
                deletes += 1
                if deletes == 2:  # the second day's results
                    raise Interrupted

        event.listen(store.engine.sync_engine, "before_cursor_execute", interrupt)
        with pytest.raises(Interrupted):
            await apply_retention(store.engine, 5, now=NOW)
        event.remove(store.engine.sync_engine, "before_cursor_execute", interrupt)
        halfway = [await stored_aggregates(store), await remaining_days(store)]
        await apply_retention(store.engine, 5, now=NOW)
        return halfway, [await stored_aggregates(store), await remaining_days(store)]

    halfway, finished = run(with_history(state_db, body))
    assert approx_rows(halfway[0]) == approx_rows(EXPECTED_D1)  # day 2 rolled back whole
    assert halfway[1] == [D2, TODAY]
    assert approx_rows(finished[0]) == approx_rows(EXPECTED_D1 + EXPECTED_D2)
    assert finished[1] == [TODAY]


async def remaining_days(store: StateStore) -> list[date]:
    from floe_core.state.models import table_of

    r = table_of(ContractCheckResult)
    async with store.engine.connect() as conn:
        stamps = (await conn.execute(select(r.c.checked_at))).scalars().all()
    return sorted({as_utc(s).date() for s in stamps})


def test_a_result_written_late_into_the_last_rolled_up_day_is_counted(state_db: StateDB) -> None:
    late = History().add(Run("payments", "freshness", at(D2, 23, 59), "fail", 1.5))

    async def body(store: StateStore) -> list[DailyRow]:
        await apply_retention(store.engine, 90, now=NOW)
        await late.write(store)
        await apply_retention(store.engine, 90, now=NOW + timedelta(hours=1))
        return await stored_aggregates(store)

    aggregates = run(with_history(state_db, body))
    assert aggregates[-1] == DailyRow.of("payments", "freshness", D2, 2, 1, 1, 0, 1.0)


def test_retention_days_must_be_positive(state_db: StateDB) -> None:
    from floe_core.errors import InputError

    async def body(store: StateStore) -> None:
        await apply_retention(store.engine, 0, now=NOW)

    with pytest.raises(InputError, match="at least 1"):
        run(with_history(state_db, body))
