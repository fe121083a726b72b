"""``floe sla check`` persists by default; ``register``/``unregister``/``list``; degraded mode."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from floe_core.state.models import ContractCheckResult, ContractViolation, RegisteredContractRow


def check(floe: Any, contract: Path, manifest: Path, url: str, *extra: str) -> Any:
    return floe(
        "sla", "check", contract, "--manifest", manifest, "--check", "freshness",
        "--format", "json", *extra, env={"FLOE_STATE_URL": url},
    )  # fmt: skip


def severities(result: Any) -> list[str]:
    return [v["severity"] for v in json.loads(result.stdout)["violations"]]


def rows(state_db: Any, model: type[Any]) -> int:
    async def count() -> int:
        async with state_db.store() as store:
            return int(await state_db.count(store, model))

    return asyncio.run(count())


def test_the_fourth_check_run_on_a_stale_table_is_critical(
    state_db: Any, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    state_db.upgrade()
    runs = [check(floe, stale_contract, manifest, state_db.url) for _ in range(4)]

    assert [r.exit_code for r in runs] == [1, 1, 1, 1], runs[-1].stderr
    assert [severities(r) for r in runs] == [["error"], ["error"], ["error"], ["critical"]]
    assert all(r.stderr == "" for r in runs)
    fourth = json.loads(runs[-1].stdout)
    assert fourth["violations"][0]["metadata"]["escalated"] == "true"
    assert fourth["results"][0]["violation"]["severity"] == "critical"
    assert rows(state_db, ContractCheckResult) == 4
    assert rows(state_db, ContractViolation) == 4
    fifth = floe("sla", "check", stale_contract, "--manifest", manifest, "--check", "freshness",
                 env={"FLOE_STATE_URL": state_db.url})  # fmt: skip
    assert "CRITICAL" in fifth.stdout
    # The detail column may wrap (the age grows by the second): read the cells as one text.
    assert "(breach 5 in the window: escalated)" in re.sub(r"[│\s]+", " ", fifth.stdout)


def test_no_persist_writes_nothing(
    state_db: Any, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    state_db.upgrade()
    runs = [check(floe, stale_contract, manifest, state_db.url, "--no-persist") for _ in range(4)]

    assert [severities(r) for r in runs] == [["error"]] * 4  # no history, no escalation
    assert rows(state_db, ContractCheckResult) == 0
    assert rows(state_db, ContractViolation) == 0


def test_no_persist_does_not_even_create_the_database(
    floe: Any, stale_contract: Path, manifest: Path, tmp_path: Path
) -> None:
    path = tmp_path / "never.db"
    result = check(floe, stale_contract, manifest, f"sqlite:///{path}", "--no-persist")
    assert result.exit_code == 1
    assert not path.exists()


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_an_unreachable_database_costs_one_stderr_line_and_nothing_else(
    floe: Any, stale_contract: Path, manifest: Path, closed_port: int, fmt: str
) -> None:
    url = f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"
    args = ("sla", "check", stale_contract, "--manifest", manifest, "--format", fmt)

    down = floe(*args, env={"FLOE_STATE_URL": url})
    offline = floe(*args, "--no-persist", env={"FLOE_STATE_URL": url})

    assert down.exit_code == offline.exit_code == 1
    assert offline.stderr == ""
    [line] = down.stderr.splitlines()
    assert line.startswith("floe: WARNING: check results not persisted: cannot connect to the")
    assert f"postgresql+psycopg://floe:***@127.0.0.1:{closed_port}/floe" in line
    assert "s3cret" not in down.stderr + down.stdout
    assert "no escalation to CRITICAL" in line
    if fmt == "json":
        statuses = [
            [(r["check_type"], r["status"]) for r in json.loads(x.stdout)["results"]]
            for x in (down, offline)
        ]
        assert statuses[0] == statuses[1]
        assert ("freshness", "fail") in statuses[0]
    else:
        assert down.stdout.rstrip().endswith("→ exit 1")


def test_a_database_without_floe_tables_degrades_with_the_fix(
    state_db: Any, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    result = check(floe, stale_contract, manifest, state_db.url)  # never upgraded

    assert result.exit_code == 1
    assert severities(result) == ["error"]
    [line] = result.stderr.splitlines()
    assert "check results not persisted" in line
    assert "floe sla db upgrade" in line


def test_register_takes_the_last_check_times_from_history(
    state_db: Any, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    """Checked before it was registered: ``list`` shows when, not "never" beside a status."""
    state_db.upgrade()
    env = {"FLOE_STATE_URL": state_db.url}
    checked = check(floe, stale_contract, manifest, state_db.url, "--format", "json")
    [result] = json.loads(checked.stdout)["results"]
    assert floe("sla", "register", stale_contract, "--manifest", manifest, env=env).exit_code == 0
    listed = json.loads(floe("sla", "list", "--format", "json", env=env).stdout)
    [registered] = listed["contracts"]
    assert registered["last_check_times"] == {"freshness": result["timestamp"]}
    table = floe("sla", "list", env=env)
    assert "never" not in table.stdout
    assert f"{result['timestamp'][:16].replace('T', ' ')} UTC" in table.stdout


def test_register_list_and_unregister(
    state_db: Any, floe: Any, stale_contract: Path, manifest: Path
) -> None:
    state_db.upgrade()
    env = {"FLOE_STATE_URL": state_db.url}

    def listed() -> list[dict[str, Any]]:
        result = floe("sla", "list", "--format", "json", env=env)
        assert result.exit_code == 0, result.stderr
        contracts: list[dict[str, Any]] = json.loads(result.stdout)["contracts"]
        return contracts

    assert listed() == []
    empty = floe("sla", "list", env=env)
    assert "No contracts registered" in empty.stdout

    done = floe("sla", "register", stale_contract, "--manifest", manifest, env=env)
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("Registered events 2.0.0 in ")
    [registered] = listed()
    assert registered["contract_name"] == "events"
    assert registered["contract_version"] == "2.0.0"
    assert registered["active"] is True
    assert registered["catalog_source"] == "monitor"
    assert registered["last_check_times"] == {}
    assert registered["sla_status"] == []

    assert check(floe, stale_contract, manifest, state_db.url).exit_code == 1
    [checked] = listed()
    assert set(checked["last_check_times"]) == {"freshness"}
    [status] = checked["sla_status"]
    assert status["check_type"] == "freshness"
    assert status["consecutive_failures"] == 1
    assert status["compliance_pct"] == 0.0
    assert status["threshold"] == 3600.0
    table = floe("sla", "list", env=env)
    assert "events" in table.stdout
    assert "freshness 0.0%, 1 failed in a row" in table.stdout

    again_json = floe("sla", "register", stale_contract, "--manifest", manifest,
                      "--format", "json", env=env)  # fmt: skip
    assert again_json.exit_code == 0, again_json.stderr
    document = json.loads(again_json.stdout)
    assert document["state_database"].startswith(("sqlite+aiosqlite:", "postgresql+psycopg:"))
    assert document["registered"]["contract_name"] == "events"
    assert set(document["registered"]["last_check_times"]) == {"freshness"}  # kept

    gone = floe("sla", "unregister", "events", env=env)
    assert gone.exit_code == 0, gone.stderr
    assert gone.stdout.startswith("Unregistered events from ")
    assert listed() == []
    assert rows(state_db, RegisteredContractRow) == 0
    assert rows(state_db, ContractCheckResult) == 1  # the history stays

    again = floe("sla", "unregister", "events", env=env)
    assert again.exit_code == 2
    assert again.stderr.startswith("Error: contract 'events' is not registered in the state")


def test_registering_needs_the_database(
    floe: Any, stale_contract: Path, manifest: Path, closed_port: int
) -> None:
    url = f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"
    result = floe("sla", "register", stale_contract, "--manifest", manifest,
                  env={"FLOE_STATE_URL": url})  # fmt: skip

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: cannot connect to the state database")
    assert "s3cret" not in result.stderr
