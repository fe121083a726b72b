"""The test command says what it ran: it finds a local PostgreSQL by itself, or says plainly
how many PostgreSQL tests it skipped and how to run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from floe_core.testing.receiver import free_port
from tests._state_fixtures import CANDIDATES_ENV, POSTGRES_ENV, REQUIRE_POSTGRES_ENV

ROOT = Path(__file__).resolve().parents[1]
# Two tests of one backend-parametrised test: one SQLite, one PostgreSQL run.
TARGET = "tests/persistence/test_cli.py::test_register_takes_the_last_check_times_from_history"


def run_suite(candidates: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (POSTGRES_ENV, REQUIRE_POSTGRES_ENV)}
    env[CANDIDATES_ENV] = candidates
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_server_the_summary_says_what_was_skipped() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    run = run_suite(nowhere)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 1 skipped" in run.stdout
    assert (
        f"1 PostgreSQL test(s) skipped: {POSTGRES_ENV} is not set and no server answered on "
        f"{nowhere}; set {POSTGRES_ENV}=postgresql://USER@HOST:5432/DATABASE to run them."
    ) in " ".join(run.stdout.split())


def test_a_local_server_is_found_and_used() -> None:
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"needs a PostgreSQL server ({POSTGRES_ENV})")
    run = run_suite(server)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert "(from the default local address)" in run.stdout
    assert "skipped" not in run.stdout
