"""floe's DuckDB worker process: real round trips, concurrency, crashes and its lifetime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from floe_core.duckdb_worker import client
from floe_core.duckdb_worker.client import RemoteSession, open_session, shared_worker
from floe_core.duckdb_worker.session import EngineError, Session
from tests._processes import gone


def test_values_round_trip_with_their_types() -> None:
    session = open_session({})
    assert isinstance(session, RemoteSession)
    try:
        sql = "SELECT 1::BIGINT, 2.5::DECIMAL(4, 1), DATE '2024-06-01', 'x', NULL, $p"
        rows, width = session.execute(sql, {"p": "bound"})
    finally:
        session.close()
    assert rows == [(1, Decimal("2.5"), date(2024, 6, 1), "x", None, "bound")]
    assert width == 6


def test_limit_returns_the_first_rows_only() -> None:
    session = open_session({})
    try:
        rows, width = session.execute("SELECT * FROM range(1000)", limit=2)
        assert (rows, width) == ([(0,), (1,)], 1)
        assert session.execute("SELECT 7") == ([(7,)], 1)  # nothing pending left behind
    finally:
        session.close()


def test_errors_come_back_with_duckdbs_kind() -> None:
    session = open_session({})
    try:
        with pytest.raises(EngineError) as parse:
            session.execute("SELEKT 1")
        with pytest.raises(EngineError) as binding:
            session.execute("SELECT no_such_column")
        assert session.statement_types("SELECT 1; DELETE FROM t") == ["SELECT", "DELETE"]
    finally:
        session.close()
    assert parse.value.kind == "ParserException"
    assert binding.value.kind == "BinderException"


def test_parquet_files_become_a_view(tmp_path: Path) -> None:
    for index in range(2):
        pq.write_table(
            pa.table({"id": [index * 10 + i for i in range(3)]}), tmp_path / f"{index}.parquet"
        )
    session = open_session({})
    try:
        session.view_parquet("orders", sorted(str(p) for p in tmp_path.glob("*.parquet")))
        assert session.execute("SELECT count(*), max(id) FROM orders")[0] == [(6, 12)]
    finally:
        session.close()


def test_sessions_are_separate_databases_configured_as_asked(tmp_path: Path) -> None:
    first = open_session({"memory_limit": "256MB", "temp_directory": str(tmp_path)})
    second = open_session({"threads": 1})
    try:
        first.execute("CREATE TABLE t AS SELECT 1 AS x")
        with pytest.raises(EngineError):
            second.execute("SELECT * FROM t")
        [(limit, temp)], _ = first.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        )
        assert limit.replace(" ", "") in ("256.0MiB", "244.1MiB", "256MB")
        assert temp == str(tmp_path)
        assert second.execute("SELECT current_setting('threads')")[0] == [(1,)]
    finally:
        first.close()
        second.close()


def test_options_only_known_at_creation_get_a_new_database(tmp_path: Path) -> None:
    session = open_session({"enable_external_access": False})
    try:
        with pytest.raises(EngineError):
            session.execute(f"SELECT * FROM read_csv('{tmp_path}/none.csv')")
    finally:
        session.close()


def test_a_probe_answers_while_a_long_query_runs() -> None:
    session = open_session({"threads": 1})
    finished: list[float] = []

    def long_query() -> None:
        session.execute("SELECT count(*) FROM range(400000000) WHERE hash(range) % 7 = 0")
        finished.append(time.monotonic())

    worker = threading.Thread(target=long_query)
    worker.start()
    time.sleep(0.2)  # the long query is running in the worker
    answer, _ = client.run_probe(":memory:", False, {}, "SELECT 42")
    probed = time.monotonic()
    worker.join()
    session.close()
    assert answer == (42,)
    assert finished
    assert probed < finished[0], "the probe waited for the long query"


def test_a_dead_worker_fails_its_requests_and_the_next_one_starts_anew() -> None:
    session = open_session({})
    dead = shared_worker()
    os.kill(dead.pid, signal.SIGKILL)
    with pytest.raises(EngineError) as exc:
        session.execute("SELECT 1")
    assert exc.value.kind == client.WORKER_EXITED
    assert "exited" in str(exc.value)

    fresh = open_session({})
    try:
        assert fresh.execute("SELECT 1")[0] == [(1,)]
        assert shared_worker().pid != dead.pid
    finally:
        fresh.close()


def test_the_worker_exits_with_its_floe_process() -> None:
    script = (
        "import os\n"
        "from floe_core.duckdb_worker.client import shared_worker\n"
        "w = shared_worker()\n"
        "print(w.pid, flush=True)\n"
        "w.call('version')\n"
        "os._exit(0)\n"  # as the floe command leaves: no clean-up at all
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert gone(int(done.stdout.split()[0])), "the worker outlived the process that started it"


def test_switched_off_duckdb_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(client.ENV_SWITCH, "0")
    session = open_session({})
    try:
        assert isinstance(session, Session)
        assert session.execute("SELECT 1")[0] == [(1,)]
    finally:
        session.close()
    assert client.run_probe(":memory:", False, {}, "SELECT 2")[0] == (2,)


def test_a_worker_that_cannot_start_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "_shared", None)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(EngineError) as exc:
        open_session({})
    assert client.ENV_SWITCH in str(exc.value)
    client.prestart()  # says nothing, raises nothing: the error comes when DuckDB is needed


def test_a_worker_that_died_between_requests_is_replaced_for_a_new_session() -> None:
    dead = shared_worker()
    dead.call("version")
    os.kill(dead.pid, signal.SIGKILL)
    time.sleep(0.05)  # dead, but perhaps not yet noticed

    session = open_session({})
    try:
        assert session.execute("SELECT 1")[0] == [(1,)]
    finally:
        session.close()
    assert client.run_probe(":memory:", False, {}, "SELECT 3")[0] == (3,)
    assert shared_worker().pid != dead.pid


def test_many_sessions_at_once_each_get_a_database() -> None:
    opened: list[int] = []
    errors: list[Exception] = []

    def open_one(n: int) -> None:
        try:
            session = open_session({"threads": 1})
            try:
                opened.append(session.execute(f"SELECT {n}")[0][0][0])
            finally:
                session.close()
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(opened) == list(range(40))


HEAVY = "SELECT count(*) FROM range(3000000000) WHERE hash(range) % 7 = 0"


@pytest.mark.parametrize("switch", ["1", "0"], ids=["worker", "in-process"])
def test_a_query_past_its_timeout_is_interrupted(
    switch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(client.ENV_SWITCH, switch)
    session = open_session({"threads": 1})
    try:
        started = time.monotonic()
        with pytest.raises(EngineError) as exc:
            session.execute(HEAVY, timeout=0.3)
        assert exc.value.kind == "InterruptException"
        assert time.monotonic() - started < 5
        assert session.execute("SELECT 1", timeout=5)[0] == [(1,)]  # not interrupted later
    finally:
        session.close()
