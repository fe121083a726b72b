"""How the CLI reports a ``FloeError``: one message on stderr, exit status 2, no traceback.

floe's errors and the redaction of secrets load when a command runs, not for ``--help``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

P = ParamSpec("P")
R = TypeVar("R")

#: Exit status for usage, manifest, contract and connection errors.
EXIT_USAGE = 2


class CliError(click.ClickException):
    """A problem the user must fix; printed as ``Error: ...`` with exit status 2."""

    exit_code = EXIT_USAGE


def reports_floe_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``FloeError`` raised by ``fn`` into a ``CliError``."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from floe_core.errors import FloeError

        try:
            return fn(*args, **kwargs)
        except FloeError as exc:
            from floe_core._redact import redact

            raise CliError(redact(str(exc))) from None

    return wrapper
