"""The state worker: ``python -m floe_core.state.serve``, the state database of a one-off check.

A ``floe sla check`` that persists its run starts this process first thing, so that loading
SQLAlchemy, opening (and, when embedded, upgrading) the database and reading the contract's
history happen on another core while floe checks the tables
(``RemoteStateStore`` is floe's side). The first request, ``open``, names the state database
(the URL as configured and where it came from, or None for the embedded default); the rest
are ``RunStore`` calls, answered in order on one event loop. A database that cannot be opened
is remembered; ``opened`` answers the database's masked URL and that problem (the URL's own,
``StateURLError``: bad input; any other, ``StateError``), or None. A failed call is reported
as ``StateError`` with the driver's error on one line.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from floe_core._redact import error_line
from floe_core._worker import read_frame, serving_pipes, write_frame
from floe_core.errors import StateError, StateURLError
from floe_core.state.engine import open_state
from floe_core.state.store import StateStore
from floe_core.state.url import StateURL, embedded_state_url, parse_state_url

#: The ``RunStore`` calls a client may make.
CALLS = frozenset(
    {
        "probe_history",
        "breaches_by_type",
        "check_histories",
        "consecutive_failures_by_type",
        "record_run",
    }
)


class Server:
    """One state database, opened by the first request, used by the rest."""

    def __init__(self) -> None:
        self.store: StateStore | None = None
        self.display = ""
        self.problem: tuple[str, str] | None = None  # (error kind, message) of a failed open

    async def open(self, source: tuple[str, str] | None) -> None:
        if source is None:
            state: StateURL = embedded_state_url()
        else:
            url, origin = source
            try:
                state = parse_state_url(url, origin=origin)
            except StateURLError as exc:
                self.problem = (StateURLError.__name__, str(exc))
                return
        self.display = state.display
        try:
            engine = await open_state(state, auto_upgrade=state.embedded)
        except StateError as exc:
            self.problem = (StateError.__name__, str(exc))
            return
        self.store = StateStore(engine)

    async def handle(self, operation: str, arguments: dict[str, Any]) -> Any:
        if operation == "open":
            return await self.open(**arguments)
        if operation == "opened":
            return self.display, self.problem
        if self.problem is not None:
            raise _Failed(*self.problem)
        assert self.store is not None
        if operation not in CALLS:
            raise _Failed("ValueError", f"unknown operation {operation!r}")
        try:
            return await getattr(self.store, operation)(**arguments)
        except (SQLAlchemyError, OSError) as exc:
            raise _Failed(StateError.__name__, error_line(exc)) from None

    async def close(self) -> None:
        if self.store is not None:
            await self.store.engine.dispose()


class _Failed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


async def serve() -> None:
    """Answer requests, in order, until stdin closes."""
    requests, replies = serving_pipes()
    loop = asyncio.get_running_loop()
    server = Server()
    try:
        while True:
            try:
                request_id, operation, arguments = await loop.run_in_executor(
                    None, read_frame, requests
                )
            except EOFError:
                break
            try:
                reply: tuple[Any, ...] = ("ok", await server.handle(operation, arguments))
            except _Failed as exc:
                reply = ("error", exc.kind, str(exc))
            except Exception as exc:  # a bug: reported to floe, the worker lives on
                reply = ("error", type(exc).__name__, error_line(exc))
            write_frame(replies, (request_id, reply))
    finally:
        await server.close()


def main() -> None:
    """Serve until floe closes the pipe, then leave without interpreter teardown."""
    asyncio.run(serve())
    os._exit(0)


if __name__ == "__main__":
    main()
