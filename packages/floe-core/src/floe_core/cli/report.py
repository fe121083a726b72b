"""``floe sla report``: SLA compliance over days, weeks or months, from the state database."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from floe_core.cli._state import MANIFEST_FOR_STATE, manifest_at, open_store
from floe_core.cli.errors import CliError, reports_floe_errors

if TYPE_CHECKING:
    from floe_core.reporting.model import SLAReport

FORMATS = ("table", "json", "csv", "html")


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2024-06-01"
        ) from None


@click.command()
@click.option(
    "--contract",
    "contracts",
    metavar="NAME_OR_GLOB",
    help="Only this contract, or the contracts matching a glob (sales_*). Default: all.",
)
@click.option(
    "--window",
    type=click.Choice(["daily", "weekly", "monthly"]),
    default="weekly",
    show_default=True,
    help="Break the period into days, ISO weeks (Monday to Sunday) or calendar months.",
)
@click.option(
    "--since",
    callback=_day,
    metavar="DATE",
    help="First day of the period (UTC, YYYY-MM-DD). Default: 29 days before --until.",
)
@click.option(
    "--until",
    callback=_day,
    metavar="DATE",
    help="Last day of the period, included (UTC, YYYY-MM-DD). Default: today.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json: one object whose rows use the contract_daily_aggregates "
    "column names plus compliance_pct; csv: one line per contract, check type and window; "
    "html: one self-contained page with a compliance chart per contract.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file (replaced whole, never half-written; a new file gets "
    "the umask's mode, a replaced one keeps its own) instead of standard output.",
)
@MANIFEST_FOR_STATE
@reports_floe_errors
def report(
    contracts: str | None,
    window: str,
    since: date | None,
    until: date | None,
    fmt: str,
    output: Path | None,
    manifest_path: str | None,
) -> None:
    """Report SLA compliance per contract and check type from the stored check history.

    For each (contract, check type): runs executed (passed, failed or errored; a skipped run
    did not execute) against those the schedule made due (coverage; "-" where nothing is
    scheduled, as for deprecation), passed / failed / errored, compliance % (passed of
    passed + failed),
    violations by severity, availability uptime and quality scores, and per window the
    compliance and its trend: improving or degrading when it moved by 1 point or more from
    the previous window, else stable.

    Numbers come only from the state database: days rolled up by `floe sla db purge` (the
    monitor does it daily) are read from the daily aggregates, later days from the raw
    check results; both give the same numbers.

    \b
    Examples:
      floe sla report
      floe sla report --contract 'sales_*' --window daily --since 2024-06-01
      floe sla report --format json | jq '.rows[] | {contract_name, compliance_pct}'
      floe sla report --window monthly --since 2024-01-01 --format html --output sla.html
    """
    import asyncio

    from floe_core.reporting.build import build_report
    from floe_core.state.url import resolve_state_url

    manifest = manifest_at(manifest_path)
    config = manifest.data_contracts.monitoring if manifest is not None else None
    state = resolve_state_url(manifest)

    async def run() -> SLAReport:
        async with open_store(state) as store:
            return await build_report(
                store,
                since=since,
                until=until,
                window=window,  # type: ignore[arg-type]  # a click.Choice of WindowKind
                contracts=contracts,
                config=config,
            )

    built = asyncio.run(run())
    text = _render(built, fmt, state.display, to_file=output is not None)
    if output is None:
        if text is not None:
            click.echo(text, nl=not text.endswith("\n"))
        return
    _write_whole(output, text or "")
    click.echo(f"Wrote the {fmt} report to {output}: {built.message}", err=True)


def _render(built: SLAReport, fmt: str, state: str, *, to_file: bool) -> str | None:
    """The report as text; ``None`` when the table went straight to the terminal."""
    if fmt == "json":
        import json

        return json.dumps(built.to_dict(), indent=2)
    if fmt == "csv":
        from floe_core.reporting.tabular import render_csv

        return render_csv(built)
    if fmt == "html":
        from floe_core.reporting.html import render_html

        return render_html(built)
    import io
    import sys

    from rich.console import Console

    from floe_core.reporting.tabular import render_table

    if not to_file:
        width = None if sys.stdout.isatty() else 160
        render_table(built, Console(width=width, highlight=False), state)
        return None
    buffer = io.StringIO()
    render_table(built, Console(file=buffer, width=160, highlight=False, no_color=True), state)
    return buffer.getvalue()


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to a new file beside ``path``, then move it into place.

    ``path`` is never half-written. It gets the mode any new file gets (0666 less the umask),
    or keeps its mode if it existed, as a shell's ``>`` would.
    """
    import os

    if not path.parent.is_dir():
        raise CliError(f"cannot write the report to {path}: the folder {path.parent} is missing")
    try:
        fd, temporary = _new_file_beside(path)
    except OSError as exc:
        raise CliError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _keep_mode(path, temporary)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CliError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
        raise


def _new_file_beside(path: Path) -> tuple[int, Path]:
    """An empty file of a random name in ``path``'s folder, created as ``open()`` creates one.

    Not ``tempfile.mkstemp``: that makes the file 0600 whatever the umask.
    """
    import os
    import secrets

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(10):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _keep_mode(path: Path, temporary: Path) -> None:
    """Give ``temporary`` the permission bits of ``path``, if ``path`` is there to replace."""
    import os
    import stat

    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.chmod(temporary, mode)
