"""A connection to a state database for the state tests, on an engine of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from floe_core.state.engine import create_state_engine, upgrade


@asynccontextmanager
async def state_connection(url: str, *, upgraded: bool = False) -> AsyncIterator[AsyncConnection]:
    """A transaction on the state database at ``url``, committed unless it raises; the engine
    is disposed afterwards. With ``upgraded``, the database is first upgraded to head."""
    if upgraded:
        await upgrade(url)
    engine = create_state_engine(url)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()
