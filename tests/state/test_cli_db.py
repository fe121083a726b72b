"""``floe sla db upgrade``: says where the database is and which revision it reached."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from floe_core.state.engine import HEAD_REVISION

if TYPE_CHECKING:
    from .conftest import DbCommand

PASSWORD = "s3cret-pw"


def with_password(url: str) -> str:
    """``url`` with a password (the test server trusts local users, so any password works)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return url
    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


def shown(url: str) -> str:
    """How floe shows ``url``: async driver, password masked."""
    parsed = make_url(url)
    driver = "sqlite+aiosqlite" if parsed.drivername.startswith("sqlite") else "postgresql+psycopg"
    return parsed.set(drivername=driver).render_as_string(hide_password=True)


def assert_clean_error(result: DbCommand) -> str:
    """Exit 2, one ``Error:`` line on stderr, no traceback, no password; returns that line."""
    assert result.exception is None, f"unexpected exception: {result.exception!r}"
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert PASSWORD not in result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    return line


def test_upgrade_then_upgrade_again(floe_db: Callable[..., DbCommand], state_url: str) -> None:
    url = with_password(state_url)
    first = floe_db("upgrade", state_url=url, verbose=2)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        f"State database: {shown(url)} (from $FLOE_STATE_URL)",
        f"Upgraded from an empty database to revision {HEAD_REVISION}.",
    ]
    second = floe_db("upgrade", state_url=url, verbose=2)
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[1] == f"Already up to date at revision {HEAD_REVISION}."
    assert PASSWORD not in first.output + second.output


def test_upgrade_reads_the_manifest(
    floe_db: Callable[..., DbCommand],
    state_manifest: Callable[[str | None], Path],
    state_url: str,
) -> None:
    url = with_password(state_url)
    manifest = state_manifest(url)
    result = floe_db("upgrade", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"State database: {shown(url)} (from state.url in manifest {manifest})"
    )
    assert PASSWORD not in result.output


def test_upgrade_of_the_embedded_default_creates_it(
    floe_db: Callable[..., DbCommand], no_state_env: Path
) -> None:
    result = floe_db("upgrade")
    assert result.exit_code == 0, result.output
    database = no_state_env / ".floe" / "state.db"
    assert result.stdout.splitlines()[0] == (
        f"State database: sqlite+aiosqlite:///{database} (from the embedded default)"
    )
    assert database.is_file()


def test_unreachable_postgresql_is_one_clean_error(
    floe_db: Callable[..., DbCommand], closed_port: int
) -> None:
    url = f"postgresql://floe:{PASSWORD}@127.0.0.1:{closed_port}/monitoring"
    started = time.monotonic()
    result = floe_db("upgrade", state_url=url, verbose=2)
    assert time.monotonic() - started < 5
    line = assert_clean_error(result)
    assert line.startswith(
        "Error: cannot connect to the state database "
        f"postgresql+psycopg://floe:***@127.0.0.1:{closed_port}/monitoring (from $FLOE_STATE_URL)"
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (f"mysql://floe:{PASSWORD}@db/monitoring", "uses 'mysql'"),
        (f"postgresql://floe:{PASSWORD}@db:port/monitoring", "is not a database URL"),
        ("sqlite://", "names no SQLite file"),
    ],
)
def test_bad_url_is_one_clean_error(
    floe_db: Callable[..., DbCommand], url: str, fragment: str
) -> None:
    line = assert_clean_error(floe_db("upgrade", state_url=url))
    assert fragment in line
    assert "(from $FLOE_STATE_URL)" in line


def test_bad_manifest_url_names_the_manifest(
    floe_db: Callable[..., DbCommand], state_manifest: Callable[[str | None], Path]
) -> None:
    manifest = state_manifest(f"oracle://scott:{PASSWORD}@db/orcl")
    line = assert_clean_error(floe_db("upgrade", "--manifest", manifest))
    assert f"(from state.url in manifest {manifest})" in line


def test_installed_script_exits_2_quickly_when_postgresql_is_down(
    closed_port: int, tmp_path: Path
) -> None:
    floe = Path(sys.executable).with_name("floe")
    env = {
        **os.environ,
        "FLOE_STATE_URL": f"postgresql://floe:{PASSWORD}@127.0.0.1:{closed_port}/monitoring",
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(floe), "sla", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("Error: cannot connect to the state database")
    assert PASSWORD not in done.stderr
    assert "Traceback" not in done.stderr


def test_help_describes_where_the_database_is(floe_db: Callable[..., DbCommand]) -> None:
    result = floe_db("--help")
    assert result.exit_code == 0
    assert "$FLOE_STATE_URL" in result.stdout
    assert "floe sla db upgrade" in result.stdout
