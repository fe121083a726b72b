"""The state worker: a one-off check's history and run, read and written in another process.

``RemoteStateStore`` must answer every ``RunStore`` call as ``StateStore`` does on the same
database (both backends), write a run that ``StateStore`` then reads back, report a database
it cannot use once and go on like ``--no-persist``, and raise a URL that is no URL.

``floe sla check`` uses the worker unless SQLAlchemy is already loaded in its process (as it
is in this one), so the command is run here as users run it: as a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from floe_core.errors import StateError, StateURLError
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.state.engine import upgrade
from floe_core.state.remote import RemoteStateStore
from floe_core.state.run_store import HistoryPoint, ProbePoint
from floe_core.state.url import parse_state_url
from tests._factories import T0, check_result, registered, sla_status, violation
from tests._processes import gone

FLOE = Path(sys.executable).parent / "floe"
FRESHNESS = ViolationType.FRESHNESS
AVAILABILITY = ViolationType.AVAILABILITY
TYPES = [FRESHNESS, AVAILABILITY]
SINCE = T0 - timedelta(hours=24)


def _remote(url: str, problems: list[tuple[str, str]] | None = None) -> RemoteStateStore:
    def unusable(message: str, display: str) -> None:
        assert problems is not None, message
        problems.append((message, display))

    return RemoteStateStore(on_unusable=unusable).open((url, "the test"))


def _runs() -> list[tuple[list[Any], list[Any]]]:
    """Three runs: a breach of freshness, a probe that failed, then both passing."""
    runs = []
    for hours, ok in ((3, False), (2, False), (1, True)):
        at = T0 - timedelta(hours=hours)
        breach = None if ok else violation(at, ViolationSeverity.ERROR)
        fresh = check_result(at, CheckStatus.PASS if ok else CheckStatus.FAIL, FRESHNESS, breach)
        probe = check_result(
            at,
            CheckStatus.PASS if ok else CheckStatus.ERROR,
            AVAILABILITY,
            details={"probe": {"ok": ok}},
        )
        runs.append(([fresh, probe], [breach] if breach else []))
    return runs


def test_the_worker_writes_and_reads_as_the_store_does(state_db: Any) -> None:
    contract = registered("orders")

    async def scenario() -> None:
        async with state_db.store() as store:
            await store.register_contract(contract)
        remote = _remote(state_db.url)
        try:
            for results, events in _runs():
                await remote.record_run(contract, results, events, [sla_status(FRESHNESS, 1.0)])
            answers = (
                await remote.probe_history("orders", SINCE),
                await remote.breaches_by_type("orders", SINCE),
                await remote.check_histories("orders", TYPES, SINCE),
                await remote.consecutive_failures_by_type("orders", TYPES),
            )
            assert remote.display == parse_state_url(state_db.url, origin="the test").display
        finally:
            remote.close()
        async with state_db.store() as store:
            assert answers == (
                await store.probe_history("orders", SINCE),
                await store.breaches_by_type("orders", SINCE),
                await store.check_histories("orders", TYPES, SINCE),
                await store.consecutive_failures_by_type("orders", TYPES),
            )
            restored = await store.get_contract("orders")
        probes, breaches, histories, _ = answers
        assert probes == [
            ProbePoint(T0 - timedelta(hours=h), ok) for h, ok in ((3, False), (2, False), (1, True))
        ]
        assert breaches == {FRESHNESS: 2}
        assert histories[FRESHNESS][-1] == HistoryPoint(T0 - timedelta(hours=1), CheckStatus.PASS)
        assert restored is not None
        assert restored.last_check_times == {
            "freshness": T0 - timedelta(hours=1),
            "availability": T0 - timedelta(hours=1),
        }

    asyncio.run(scenario())


def test_an_unreachable_database_is_reported_once_and_reads_as_empty(closed_port: int) -> None:
    problems: list[tuple[str, str]] = []
    url = f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"

    async def scenario() -> None:
        remote = _remote(url, problems)
        try:
            assert await remote.probe_history("orders", SINCE) == []
            assert await remote.breaches_by_type("orders", SINCE) == {}
            assert await remote.check_histories("orders", TYPES, SINCE) == {
                FRESHNESS: [],
                AVAILABILITY: [],
            }
            await remote.record_run("orders", [], [], [])
        finally:
            remote.close()

    asyncio.run(scenario())
    [(message, display)] = problems
    assert message.startswith("cannot connect to the state database")
    assert display == f"postgresql+psycopg://floe:***@127.0.0.1:{closed_port}/floe"
    assert "s3cret" not in message + display


def test_a_url_that_is_no_url_is_bad_input() -> None:
    async def scenario() -> None:
        remote = _remote("mysql://somewhere/db")
        try:
            with pytest.raises(StateURLError, match="which floe cannot store state in"):
                await remote.probe_history("orders", SINCE)
        finally:
            remote.close()

    asyncio.run(scenario())


def test_a_worker_that_dies_is_a_state_error_the_monitor_degrades_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    asyncio.run(upgrade(url))

    async def scenario() -> None:
        remote = _remote(url)
        assert await remote.probe_history("orders", SINCE) == []
        os.kill(remote._worker.pid, signal.SIGKILL)
        with pytest.raises(StateError, match="state worker process exited") as caught:
            await remote.breaches_by_type("orders", SINCE)
        assert isinstance(caught.value, remote.failures)

    asyncio.run(scenario())


def test_a_persisted_check_loads_no_sqlalchemy_in_floes_process(
    stale_lake: Any, tmp_path: Path
) -> None:
    """The whole point: SQLAlchemy (state database, SQLite catalog) stays out of floe's own
    process; the run is still persisted, by the worker."""
    script = (
        "import sys\n"
        "from floe_core.cli.main import cli\n"
        "try:\n"
        f"    cli.main(['sla', 'check', {str(stale_lake.contract_path)!r}, '--manifest',"
        f" {str(stale_lake.manifest)!r}, '--format', 'json'], prog_name='floe')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'aiosqlite'}),"
        " file=sys.stderr)\n"
    )
    database = tmp_path / "state.db"
    asyncio.run(upgrade(f"sqlite:///{database}"))
    env = {**os.environ, "FLOE_STATE_URL": f"sqlite:///{database}"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert run.stderr.splitlines()[-1] in ("0 []", "1 []"), run.stderr
    with sqlite3.connect(database) as con:
        [(rows,)] = con.execute("SELECT count(*) FROM contract_check_results").fetchall()
    assert rows == 5  # every check of the run, written by the worker


def _check(contract: Path, manifest: Path, url: str) -> subprocess.CompletedProcess[str]:
    """``floe sla check`` of freshness, as a process of its own, persisting to ``url``."""
    argv = [str(FLOE), "sla", "check", str(contract), "--manifest", str(manifest)]
    argv += ["--check", "freshness", "--format", "json"]
    env = {**os.environ, "FLOE_STATE_URL": url}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def test_the_command_escalates_from_what_the_worker_persisted(
    state_db: Any, stale_contract: Path, manifest: Path
) -> None:
    state_db.upgrade()
    runs = [_check(stale_contract, manifest, state_db.url) for _ in range(4)]

    assert [r.returncode for r in runs] == [1, 1, 1, 1], runs[-1].stderr
    assert all(r.stderr == "" for r in runs)
    severities = [[v["severity"] for v in json.loads(r.stdout)["violations"]] for r in runs]
    assert severities == [["error"], ["error"], ["error"], ["critical"]]

    async def persisted() -> int:
        async with state_db.store() as store:
            return len(await store.check_history("events", FRESHNESS, SINCE))

    assert asyncio.run(persisted()) == 4


@pytest.mark.parametrize("problem", ["unreachable", "not upgraded"])
def test_a_database_the_worker_cannot_use_is_one_line_on_stderr(
    problem: str, stale_contract: Path, manifest: Path, closed_port: int, tmp_path: Path
) -> None:
    url = (
        f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"
        if problem == "unreachable"
        else f"sqlite:///{tmp_path / 'empty.db'}"
    )
    run = _check(stale_contract, manifest, url)

    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    assert line.startswith("floe: WARNING: check results not persisted: ")
    assert "no escalation to CRITICAL" in line
    assert ("cannot connect" if problem == "unreachable" else "floe sla db upgrade") in line
    assert "s3cret" not in run.stderr + run.stdout
    assert [v["severity"] for v in json.loads(run.stdout)["violations"]] == ["error"]


def test_a_state_url_that_is_no_url_stops_the_command(stale_contract: Path, manifest: Path) -> None:
    run = _check(stale_contract, manifest, "mysql://somewhere/db")

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("Error: the state database URL 'mysql://somewhere/db'")


def test_a_worker_that_cannot_start_leaves_the_database_to_floes_process(
    floe: Any,
    state_db: Any,
    stale_contract: Path,
    manifest: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state_db.upgrade()
    monkeypatch.setattr("floe_core.cli.sla._sqlalchemy_loaded", lambda: False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))  # Popen fails

    result = floe(
        "sla", "check", stale_contract, "--manifest", manifest, "--check", "freshness",
        "--format", "json", env={"FLOE_STATE_URL": state_db.url},
    )  # fmt: skip

    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""

    async def persisted() -> int:
        async with state_db.store() as store:
            return len(await store.check_history("events", FRESHNESS, SINCE))

    assert asyncio.run(persisted()) == 1


def test_the_worker_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    asyncio.run(upgrade(url))
    script = (
        "import asyncio, os\n"
        "from floe_core.state.remote import RemoteStateStore\n"
        "store = RemoteStateStore(on_unusable=print)\n"
        f"store.open(({url!r}, 'the test'))\n"
        "print(store._worker.pid, flush=True)\n"
        "asyncio.run(store.probe_history('orders', __import__('datetime').datetime.now()))\n"
        "os._exit(0)\n"  # as the floe command leaves: nothing closed
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert gone(int(done.stdout.split()[0])), "the worker outlived the process that started it"


def test_what_the_worker_logs_floe_logs(
    stale_contract: Path, manifest: Path, tmp_path: Path
) -> None:
    """The embedded database is created and upgraded by the worker; ``-v`` still says so."""
    env = {k: v for k, v in os.environ.items() if k != "FLOE_STATE_URL"}
    argv = [str(FLOE), "-v", "sla", "check", str(stale_contract), "--manifest", str(manifest)]
    run = subprocess.run(
        [*argv, "--check", "freshness"], capture_output=True, text=True, env=env, cwd=tmp_path
    )

    assert run.returncode == 1, run.stderr
    database = tmp_path / ".floe" / "state.db"
    assert f"floe: INFO: state database sqlite+aiosqlite:///{database} upgraded from empty" in (
        run.stderr
    )
    with sqlite3.connect(database) as con:
        assert con.execute("SELECT count(*) FROM contract_check_results").fetchone() == (1,)
