"""``floe``: the root command. Subcommands import their dependencies lazily, so help is fast."""

from __future__ import annotations

import click

from floe_core._version import __version__
from floe_core.cli._logging import configure as configure_logging
from floe_core.cli.sla import sla


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="floe")
@click.option("-v", "--verbose", count=True, help="More log output on stderr; -vv adds tracebacks.")
def cli(verbose: int) -> None:
    """floe keeps ODCS data contracts honest against live Apache Iceberg tables.

    \b
    Start with:
      floe sla check contracts/orders.yaml     check one contract now
      floe sla check --help                    what is checked, formats, exit codes
    """
    configure_logging(verbose)
    _export_traces_if_asked()


def _export_traces_if_asked() -> None:
    """With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_TRACES_EXPORTER``) set, export the
    command's spans over OTLP, flushed when it ends; without any ``OTEL_*`` variable the
    OpenTelemetry SDK is not even imported."""
    import os

    if not any(name.startswith("OTEL_") for name in os.environ):
        return
    from floe_core.telemetry.tracing import configure_from_env

    export = configure_from_env()
    if export is not None:
        click.get_current_context().call_on_close(export.shutdown)


cli.add_command(sla)


def main() -> None:
    """The ``floe`` console script: run ``cli``, then leave without interpreter teardown.

    Tearing down pyarrow, DuckDB and SQLAlchemy at exit costs about a third of a second, for
    nothing: floe writes no files that need closing at exit (checks clean up after
    themselves). Output and logs are flushed first.

    The cyclic garbage collector is off. Every floe command is one short process whose
    objects nearly all live until it exits (modules, pydantic and SQLAlchemy models): the
    collector would walk them over and over, a tenth of a second of ``floe sla check``, to
    free next to nothing that reference counting does not. A command that runs for long must
    turn it back on (``gc.enable()``).
    """
    import gc
    import logging
    import os
    import sys

    gc.disable()
    try:
        cli.main(prog_name="floe")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
