"""``floe``: the root command. Subcommands import their dependencies lazily, so help is fast."""

from __future__ import annotations

import click

from floe_core import __version__
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


cli.add_command(sla)
