"""Open the monitoring-state database, and bring its schema up to date with Alembic.

The embedded SQLite database is created and upgraded on first use; a PostgreSQL database is
upgraded only by ``floe sla db upgrade``, and until then using it is a ``StateSchemaError``.
Opening a database that is already up to date costs one query and does not import Alembic.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from floe_core._redact import one_line, redact
from floe_core.errors import StateConnectionError, StateError, StateSchemaError
from floe_core.state.url import StateURL, embedded_state_url, parse_state_url

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

#: The Alembic migrations shipped inside floe-core.
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Alembic's version table, named so that it cannot clash with an application's own.
VERSION_TABLE = "floe_alembic_version"
#: The newest migration; a test keeps it equal to the head of ``migrations/versions/``.
HEAD_REVISION = "0004"
#: Seconds libpq waits for a PostgreSQL server to answer before giving up.
CONNECT_TIMEOUT_SECONDS = 10
# Serialises concurrent upgrades of one PostgreSQL database (pg_advisory_xact_lock key).
_UPGRADE_LOCK_KEY = 0x666C6F65  # "floe"
#: Execution option naming the statement that opens a SQLite transaction (BEGIN IMMEDIATE
#: takes the write lock at once).
SQLITE_BEGIN = "floe_sqlite_begin"
# Alembic keeps the running migration's context in module globals, so a process runs one
# upgrade at a time, whichever event loop or thread asks.
_ALEMBIC_IN_USE = threading.Lock()
_UPGRADE_HINT = "run `floe sla db upgrade` (with the same --manifest or $FLOE_STATE_URL)"


@dataclass(frozen=True)
class UpgradeResult:
    """What ``upgrade`` did: the revision found (``None``: no floe tables) and the one reached."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return self.before != self.after


def create_state_engine(state: StateURL | str) -> AsyncEngine:
    """An ``AsyncEngine`` for a state database; SQLite gets foreign keys and real transactions.

    Creates the directory of the embedded SQLite file; any other file's must exist.
    """
    state = _as_state_url(state)
    if state.backend == "postgresql":
        query = state.url.partition("?")[2]
        connect_args: dict[str, Any] = (
            {} if "connect_timeout=" in query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        return create_async_engine(state.url, connect_args=connect_args)
    if state.embedded:
        Path(state.url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(state.url)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions (so DDL is transactional too), and
    # enforce foreign keys, which SQLite leaves off unless asked on every connection.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(SQLITE_BEGIN, "BEGIN"))


async def open_state(url: StateURL | str, *, auto_upgrade: bool) -> AsyncEngine:
    """An engine on a state database at this floe's schema revision; the caller disposes it.

    With ``auto_upgrade`` (meant for the embedded database: ``auto_upgrade=state.embedded``)
    a database behind is upgraded first; otherwise it is a ``StateSchemaError`` that tells the
    user to run ``floe sla db upgrade``. Unreachable: ``StateConnectionError``.
    """
    state = _as_state_url(url)
    engine = create_state_engine(state)
    try:
        async with _connect(engine, state) as conn:
            current = await _current_revision(conn, state)
        if current != HEAD_REVISION:
            if auto_upgrade:
                await _upgrade(engine, state)
            else:
                raise _not_at_head(state, current)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def upgrade(target: AsyncEngine | StateURL | str) -> UpgradeResult:
    """Apply the migrations a state database lacks; running it again changes nothing.

    An engine passed in stays open; one made here from a URL is disposed of.
    """
    if isinstance(target, AsyncEngine):
        return await _upgrade(target, _describe(target))
    state = _as_state_url(target)
    engine = create_state_engine(state)
    try:
        return await _upgrade(engine, state)
    finally:
        await engine.dispose()


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration of floe's migrations, built in code (no ``alembic.ini``).

    ``url`` is only needed to run Alembic commands without a connection (``--sql`` mode,
    ``revision --autogenerate``); ``upgrade`` passes its connection in ``attributes``.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _as_state_url(url: StateURL | str) -> StateURL:
    if isinstance(url, StateURL):
        return url
    embedded = embedded_state_url()
    parsed = parse_state_url(url, origin="the URL given")
    return embedded if parsed.url == embedded.url else parsed


def _describe(engine: AsyncEngine) -> StateURL:
    """A ``StateURL`` for messages about an engine made elsewhere."""
    url = engine.url.render_as_string(hide_password=False)
    display = redact(engine.url.render_as_string(hide_password=True))
    return StateURL(url=url, display=display, embedded=False, origin="the engine given")


@asynccontextmanager
async def _connect(engine: AsyncEngine, state: StateURL) -> AsyncIterator[AsyncConnection]:
    """A connection, with failure to connect turned into a ``StateConnectionError``."""
    try:
        conn = await engine.connect()
    except (DBAPIError, OSError) as exc:
        hint = (
            "check that its directory exists and is writable"
            if state.backend == "sqlite"
            else "check the URL, the credentials and that the server is running"
        )
        raise StateConnectionError(
            f"cannot connect to the state database {state.display} (from {state.origin}): "
            f"{_reason(exc, engine)}; {hint}"
        ) from None
    try:
        yield conn
    finally:
        await conn.close()


async def _current_revision(conn: AsyncConnection, state: StateURL) -> str | None:
    """The revision in the version table, read with plain SQL so that Alembic stays unloaded."""
    try:
        exists = await conn.run_sync(lambda sync: inspect(sync).has_table(VERSION_TABLE))
        if not exists:
            return None
        rows = (await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).all()
    except DBAPIError as exc:
        raise StateError(
            f"cannot read the schema revision of the state database {state.display} "
            f"(from {state.origin}): {_reason(exc, conn)}"
        ) from None
    finally:
        await conn.rollback()
    return str(rows[0][0]) if len(rows) == 1 else None


async def _upgrade(engine: AsyncEngine, state: StateURL) -> UpgradeResult:
    from alembic.util import CommandError

    async with _alembic_turn(), _connect(engine, state) as conn:
        if state.backend == "sqlite":
            # Take the write lock before reading the revision: a second process upgrading
            # the same file waits, then finds nothing left to do.
            await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        try:
            async with conn.begin():
                if state.backend == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY}
                    )
                before, after = await conn.run_sync(_run_alembic_upgrade)
        except CommandError as exc:
            raise StateSchemaError(
                f"cannot upgrade the state database {state.display} (from {state.origin}): "
                f"{exc}; it was probably upgraded by a newer floe, so upgrade floe"
            ) from None
        except DBAPIError as exc:
            raise StateError(
                f"upgrading the state database {state.display} (from {state.origin}) failed: "
                f"{_reason(exc, engine)}"
            ) from None
    if before != after:
        log.info(
            "state database %s upgraded from %s to %s", state.display, before or "empty", after
        )
    return UpgradeResult(before=before, after=after)


@asynccontextmanager
async def _alembic_turn() -> AsyncIterator[None]:
    """Wait, without blocking the event loop, until no other upgrade runs in this process."""
    while not _ALEMBIC_IN_USE.acquire(blocking=False):
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        _ALEMBIC_IN_USE.release()


def _run_alembic_upgrade(connection: Connection) -> tuple[str | None, str]:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    def revision() -> str | None:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()

    config = alembic_config()
    config.attributes["connection"] = connection
    before = revision()
    command.upgrade(config, "head")
    after = revision()
    assert after is not None  # a successful upgrade always records a revision
    return before, after


def _not_at_head(state: StateURL, current: str | None) -> StateSchemaError:
    where = f"the state database {state.display} (from {state.origin})"
    if current is None:
        return StateSchemaError(f"{where} has no floe tables yet: {_UPGRADE_HINT}")
    from alembic.script import ScriptDirectory

    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current not in known:
        return StateSchemaError(
            f"{where} is at schema revision {current}, which this floe does not know (its "
            f"newest is {HEAD_REVISION}): it was upgraded by a newer floe, so upgrade floe"
        )
    return StateSchemaError(
        f"{where} is at schema revision {current}, this floe needs {HEAD_REVISION}: {_UPGRADE_HINT}"
    )


def _reason(exc: BaseException, bind: AsyncEngine | AsyncConnection) -> str:
    """The driver's own message, on one line, with the URL's password masked."""
    original = getattr(exc, "orig", None) or exc
    password = bind.engine.url.password if isinstance(bind, AsyncConnection) else bind.url.password
    return redact(one_line(str(original)), [password] if password else [])
