"""Alembic environment of floe's state migrations; floe runs it from ``state.engine.upgrade``.

``upgrade`` hands Alembic an open connection (``config.attributes["connection"]``) inside its
own transaction. Without one, Alembic connects to ``sqlalchemy.url`` through the same async
engine floe uses, so developers can run commands from code, for example a new revision::

    from alembic import command
    from floe_core.state.engine import alembic_config
    command.revision(alembic_config("sqlite:///up-to-date.db"), "what changed", autogenerate=True)
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from floe_core.state.engine import VERSION_TABLE, create_state_engine
from floe_core.state.models import Base
from floe_core.state.url import parse_state_url

config = context.config


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        compare_server_default=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Write the migrations' SQL instead of running it (``alembic upgrade --sql``)."""
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    """Run the migrations on ``connection``, in its transaction if it has one."""
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_from_url() -> None:
    """Connect to ``sqlalchemy.url`` and run the migrations there."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("floe's migrations need a connection or a sqlalchemy.url")
    engine = create_state_engine(parse_state_url(url, origin="sqlalchemy.url"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif isinstance(given := config.attributes.get("connection"), Connection):
    run_migrations(given)
else:
    asyncio.run(run_migrations_from_url())
