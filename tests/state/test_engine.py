"""Opening the state database: the embedded one upgrades itself, any other must be upgraded."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core.errors import StateConnectionError, StateSchemaError
from floe_core.state.engine import (
    HEAD_REVISION,
    VERSION_TABLE,
    UpgradeResult,
    create_state_engine,
    open_state,
    upgrade,
)
from floe_core.state.url import StateURL, embedded_state_url, parse_state_url
from tests.state._db import state_connection


async def revision_on(conn: AsyncConnection) -> str | None:
    """The revision Alembic recorded, read with plain SQL; None before the first upgrade."""
    if not await conn.run_sync(lambda sync: inspect(sync).has_table(VERSION_TABLE)):
        return None
    return (await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()


async def revision_when_opened(state: StateURL | str, *, auto_upgrade: bool) -> str | None:
    """Open the state database as floe does (``open_state``); the revision it then has."""
    engine = await open_state(state, auto_upgrade=auto_upgrade)
    try:
        async with engine.connect() as conn:
            return await revision_on(conn)
    finally:
        await engine.dispose()


async def revision_of(url: str) -> str | None:
    async with state_connection(url) as conn:
        return await revision_on(conn)


def test_upgrade_is_idempotent(state_url: str) -> None:
    async def run() -> tuple[UpgradeResult, UpgradeResult, str | None]:
        first = await upgrade(state_url)
        second = await upgrade(state_url)
        return first, second, await revision_of(state_url)

    first, second, revision = asyncio.run(run())
    assert first == UpgradeResult(before=None, after=HEAD_REVISION)
    assert first.changed
    assert second == UpgradeResult(before=HEAD_REVISION, after=HEAD_REVISION)
    assert not second.changed
    assert revision == HEAD_REVISION


def test_upgrade_leaves_a_given_engine_open(state_url: str) -> None:
    async def run() -> int:
        engine = create_state_engine(state_url)
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                return len((await conn.execute(text(f"SELECT * FROM {VERSION_TABLE}"))).all())
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == 1


def test_open_state_refuses_a_database_that_was_never_upgraded(state_url: str) -> None:
    with pytest.raises(StateSchemaError, match="has no floe tables yet: run `floe sla db upgrade`"):
        asyncio.run(open_state(state_url, auto_upgrade=False))
    assert asyncio.run(revision_of(state_url)) is None  # nothing was created


def test_open_state_uses_an_upgraded_database(state_url: str) -> None:
    async def run() -> list[str]:
        await upgrade(state_url)
        engine = await open_state(state_url, auto_upgrade=False)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT contract_name FROM registered_contracts"))
                return [str(name) for (name,) in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == []


def test_open_state_auto_upgrades_when_asked(state_url: str) -> None:
    assert asyncio.run(revision_when_opened(state_url, auto_upgrade=True)) == HEAD_REVISION


def test_a_database_from_a_newer_floe_is_refused(state_url: str) -> None:
    async def stamp_future() -> None:
        async with state_connection(state_url, upgraded=True) as conn:
            await conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))

    asyncio.run(stamp_future())
    with pytest.raises(StateSchemaError, match="revision 9999, which this floe does not know"):
        asyncio.run(open_state(state_url, auto_upgrade=False))
    with pytest.raises(StateSchemaError, match="upgraded by a newer floe, so upgrade floe"):
        asyncio.run(upgrade(state_url))


def test_embedded_database_is_created_and_upgraded_on_first_use(no_state_env: Path) -> None:
    state = embedded_state_url()
    assert state.embedded
    assert not (no_state_env / ".floe").exists()
    revision = asyncio.run(revision_when_opened(state, auto_upgrade=state.embedded))
    assert revision == HEAD_REVISION
    assert (no_state_env / ".floe" / "state.db").is_file()
    # The plain URL string of the embedded default is recognised too.
    asyncio.run(asyncio.wait_for(_open_and_close(state.url, auto_upgrade=False), 10))


async def _open_and_close(url: str, *, auto_upgrade: bool) -> None:
    engine = await open_state(url, auto_upgrade=auto_upgrade)
    await engine.dispose()


def test_concurrent_first_uses_of_the_embedded_database_both_succeed(no_state_env: Path) -> None:
    state = embedded_state_url()

    async def run() -> None:
        engines: list[AsyncEngine] = await asyncio.gather(
            *(open_state(state, auto_upgrade=True) for _ in range(3))
        )
        for engine in engines:
            await engine.dispose()

    asyncio.run(run())
    assert asyncio.run(revision_of(state.url)) == HEAD_REVISION


def test_only_the_embedded_databases_directory_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'state.db'}"
    with pytest.raises(StateConnectionError, match="check that its directory exists"):
        asyncio.run(open_state(url, auto_upgrade=True))
    assert not (tmp_path / "missing").exists()


def test_sqlite_connections_enforce_foreign_keys(sqlite_state_url: str) -> None:
    async def run() -> int:
        async with state_connection(sqlite_state_url) as conn:
            return int((await conn.execute(text("PRAGMA foreign_keys"))).scalar_one())

    assert asyncio.run(run()) == 1


def test_unreachable_postgresql_fails_fast_without_the_password(closed_port: int) -> None:
    url = f"postgresql://floe:s3cret-pw@127.0.0.1:{closed_port}/monitoring"
    state = parse_state_url(url, origin="$FLOE_STATE_URL")
    started = time.monotonic()
    with pytest.raises(StateConnectionError) as caught:
        asyncio.run(open_state(state, auto_upgrade=False))
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith(
        f"cannot connect to the state database postgresql+psycopg://floe:***@127.0.0.1:"
        f"{closed_port}/monitoring (from $FLOE_STATE_URL): "
    )
    assert "s3cret-pw" not in message
    with pytest.raises(StateConnectionError):
        asyncio.run(upgrade(state))


def test_opening_an_up_to_date_database_does_not_load_alembic(sqlite_state_url: str) -> None:
    asyncio.run(upgrade(sqlite_state_url))
    probe = (
        "import asyncio, sys\n"
        "from floe_core.state.engine import open_state\n"
        "async def main():\n"
        f"    engine = await open_state({sqlite_state_url!r}, auto_upgrade=True)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_concurrent_upgrades_of_one_database_all_succeed(state_url: str) -> None:
    async def run() -> list[UpgradeResult]:
        return list(await asyncio.gather(*(upgrade(state_url) for _ in range(3))))

    results = asyncio.run(run())
    assert sorted(results, key=lambda r: r.changed) == [
        UpgradeResult(before=HEAD_REVISION, after=HEAD_REVISION),
        UpgradeResult(before=HEAD_REVISION, after=HEAD_REVISION),
        UpgradeResult(before=None, after=HEAD_REVISION),
    ]


def test_concurrent_upgrades_of_different_databases_in_one_process(
    state_url: str, tmp_path: Path
) -> None:
    # Alembic's migration context is global to the process: upgrades must take turns.
    urls = [state_url, *(f"sqlite:///{tmp_path / f'other-{i}.db'}" for i in range(2))]

    async def run() -> list[UpgradeResult]:
        return list(await asyncio.gather(*(upgrade(url) for url in urls)))

    assert asyncio.run(run()) == [UpgradeResult(before=None, after=HEAD_REVISION)] * 3


def test_a_database_at_the_first_revision_upgrades_to_head(state_url: str) -> None:
    from alembic import command
    from sqlalchemy import Connection

    from floe_core.state.engine import alembic_config

    def to_first(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    async def run() -> tuple[str | None, UpgradeResult]:
        async with state_connection(state_url) as conn:
            await conn.run_sync(to_first)
        first = await revision_of(state_url)
        return first, await upgrade(state_url)

    first, result = asyncio.run(run())
    assert first == "0001"
    assert result == UpgradeResult(before="0001", after=HEAD_REVISION)
