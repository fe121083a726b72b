"""``floe``: the root command. Subcommands import their dependencies lazily, so help is fast."""

from __future__ import annotations

import click

from floe_core import __version__
from floe_core.cli.sla import sla


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="floe")
def cli() -> None:
    """floe keeps ODCS data contracts honest against live Apache Iceberg tables.

    \b
    Start with:
      floe sla check contracts/orders.yaml     check one contract now
      floe sla check --help                    what is checked, formats, exit codes
    """


cli.add_command(sla)
