"""State database fixtures for every test folder (registered in ``tests/conftest.py``).

``state_url`` runs a test once per backend: a SQLite file in ``tmp_path``, and a fresh
PostgreSQL database of its own, created on the server ``$FLOE_TEST_POSTGRES_URL`` names and
dropped afterwards, so tests never see each other's rows. Without that variable the suite
looks for a server on the default local address (``LOCAL_SERVERS``) and uses it when one
answers; with none, the PostgreSQL runs are skipped and the summary says how many and how to
run them, unless ``FLOE_REQUIRE_POSTGRES=1``, when they fail instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

POSTGRES_ENV = "FLOE_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "FLOE_REQUIRE_POSTGRES"
#: Prefix of the per-test databases; a leftover one (from a killed run) is safe to drop.
DATABASE_PREFIX = "floe_test_"
#: Where the suite looks for PostgreSQL when $FLOE_TEST_POSTGRES_URL is not set
#: (``$FLOE_TEST_POSTGRES_CANDIDATES``, space-separated, replaces them: the suite's own test).
CANDIDATES_ENV = "FLOE_TEST_POSTGRES_CANDIDATES"
LOCAL_SERVERS = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://postgres@127.0.0.1:5432/test",
)
HOW_TO_ENABLE = f"set {POSTGRES_ENV}=postgresql://USER@HOST:5432/DATABASE"
#: How the suite found its server ("" without one), and the PostgreSQL tests it skipped.
_found_by = ""
_skipped: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Use a local PostgreSQL server when $FLOE_TEST_POSTGRES_URL names none and one answers."""
    global _found_by
    if os.environ.get(POSTGRES_ENV, "").strip():
        _found_by = POSTGRES_ENV
        return
    for candidate in _candidates():
        try:
            psycopg.connect(candidate, connect_timeout=2).close()
        except psycopg.Error:
            continue
        os.environ[POSTGRES_ENV] = candidate
        _found_by = "the default local address"
        return


def _candidates() -> list[str]:
    return os.environ.get(CANDIDATES_ENV, "").split() or list(LOCAL_SERVERS)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def pytest_report_header(config: pytest.Config) -> str:
    if _found_by:
        return f"PostgreSQL tests: {_shown(os.environ[POSTGRES_ENV])} (from {_found_by})"
    return f"PostgreSQL tests: no server ({HOW_TO_ENABLE} to run them)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One clear line when PostgreSQL tests were skipped, and how to run them."""
    if _skipped:
        terminalreporter.write_line(
            f"{len(_skipped)} PostgreSQL test(s) skipped: {POSTGRES_ENV} is not set and no "
            f"server answered on {', '.join(_shown(u) for u in _candidates())}; "
            f"{HOW_TO_ENABLE} to run them.",
            yellow=True,
            bold=True,
        )


def postgres_server_url() -> str | None:
    """``$FLOE_TEST_POSTGRES_URL`` as libpq understands it, or ``None`` when unset."""
    raw = os.environ.get(POSTGRES_ENV, "").strip()
    if not raw:
        return None
    url = make_url(raw).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def require_postgres_server() -> str:
    """The server URL; skips the test without one, or fails it when PostgreSQL is required."""
    server = postgres_server_url()
    if server is not None:
        return server
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        pytest.fail(
            f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is not set and no server answered "
            f"on the default local address: {HOW_TO_ENABLE}"
        )
    _skipped.append(os.environ.get("PYTEST_CURRENT_TEST", ""))
    pytest.skip(f"PostgreSQL tests need a server: {HOW_TO_ENABLE}")


@contextmanager
def fresh_postgres_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``, dropped on exit; yields its SQLAlchemy URL."""
    name = DATABASE_PREFIX + secrets.token_hex(6)
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        shown = make_url(server).render_as_string(hide_password=True)
        pytest.fail(f"cannot reach the PostgreSQL server {shown} ({POSTGRES_ENV}): {exc}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = make_url(server).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgresql_state_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database of this test's own (``postgresql+psycopg://...``)."""
    with fresh_postgres_database(require_postgres_server()) as url:
        yield url


@pytest.fixture
def sqlite_state_url(tmp_path: Path) -> str:
    """A SQLite state database file (not yet created) in ``tmp_path``."""
    return f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Make more fresh PostgreSQL databases in one test; all are dropped after it."""
    server = require_postgres_server()
    with ExitStack() as stack:
        yield lambda: stack.enter_context(fresh_postgres_database(server))


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest) -> str:
    """An empty state database URL (async driver), once per backend: SQLite and PostgreSQL.

    Each PostgreSQL run gets a database of its own, dropped after the test. Nothing is
    created in it: open it with ``open_state(state_url, auto_upgrade=True)`` or ``upgrade``.
    """
    name = f"{request.param}_state_url"
    url: str = request.getfixturevalue(name)
    return url
