"""Soda Core 4, the second tool floe is compared with, in a virtual environment of its own.

``benchmarks/.venv-soda-<python>/`` is created on first use with ``soda-duckdb`` pinned (it
pins ``soda-core`` to its own version), on the interpreter the benchmark runs on, and used
by nothing but the comparison, as datacontract-cli's venv is (``_datacontract.py``).

Soda 4 has no Iceberg data source, so it reads the table's data the way the issue measured
it: through DuckDB, over the Parquet files of the table's current snapshot (listed by
pyiceberg in the benchmark process, as floe's and datacontract-cli's own reads would find
them), in three ways, each a data source configuration of ``type: duckdb``:

- ``view``: a DuckDB database file holding ``CREATE VIEW orders AS SELECT * FROM
  read_parquet([...])``: every check reads the Parquet files;
- ``table``: a DuckDB database file holding the same data materialised, ``CREATE TABLE
  orders AS ...``: the checks read DuckDB's own storage;
- ``parquet``: Soda's own Parquet mode: a data source whose ``connection.database`` is a
  ``.parquet`` path makes Soda run ``CREATE TABLE <file stem> AS SELECT * FROM
  read_parquet('<path>')`` in an in-memory DuckDB when it connects, inside its timed run.
  The path is a glob over one symbolic link per live data file (``<n>/orders.parquet``),
  so that its stem, the table's name, is ``orders`` and only the snapshot's files match.

Creating the view, the table and the links is set-up, done once per table with Soda's own
DuckDB and never timed, as in the issue's measurement. Each variant's dataset is
``bench/main/orders``; the contract is ``_soda_contract.py``'s translation of floe's.

``soda contract verify`` prints its results as a log table and says nothing else a
program can read but its exit code (0 all passed, 1 a check failed, 2 one warned, 3 errors,
4 not sent to Soda Cloud). So it runs through ``_soda_cli.py``: Soda's own console-script
entry point (``soda_core.cli.cli:execute``), unchanged, with one hook on the function that
turns the session's result into the exit code, which first writes the result, check by
check, as JSON (a few kB: well under a millisecond of the timed run).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from _peer_venv import HERE, ensure_venv, run, venv_dir, versions

VENV = venv_dir("soda")
REQUIREMENTS = ("soda-duckdb==4.28.0",)
DISTRIBUTIONS = ("soda-core", "soda-duckdb", "duckdb", "pydantic", "sqlglot")
CLI_SCRIPT = HERE / "_soda_cli.py"
DATA_SOURCE = "bench"
SCHEMA = "main"
TABLE = "orders"
DATASET = f"{DATA_SOURCE}/{SCHEMA}/{TABLE}"
VARIANTS = ("view", "table", "parquet")
# Soda's anonymous usage telemetry (OpenTelemetry spans to collect.soda.io) is on unless
# this says otherwise; off, as datacontract-cli and floe send nothing either.
ENVIRONMENT = {"SODA_CORE_TELEMETRY_ENABLED": "false"}


@dataclass(frozen=True)
class SodaCli:
    """Soda's interpreter in its venv and the versions it runs with."""

    python: Path
    versions: dict[str, str | None]

    def verify_argv(self, data_source: Path, contract: Path, output: Path) -> list[str]:
        """``soda contract verify`` with the results written to ``output`` as JSON."""
        return [
            *(str(self.python), str(CLI_SCRIPT), str(output), "contract", "verify"),
            *("--data-source", str(data_source), "--contract", str(contract)),
        ]

    @staticmethod
    def environment() -> dict[str, str]:
        """This environment without ``SODA_*`` settings, plus telemetry off."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SODA_")}
        return env | ENVIRONMENT


def ensure_soda(*, log: bool = True) -> SodaCli:
    """The pinned Soda Core, installing it into its own venv when absent or outdated."""
    python = ensure_venv(VENV, REQUIREMENTS, "soda", log=log)
    return SodaCli(python, versions(python, DISTRIBUTIONS))


@dataclass(frozen=True)
class SodaSources:
    """One data source configuration file per variant (``VARIANTS``), and the data files."""

    data_sources: dict[str, Path]
    data_files: tuple[str, ...]


def write_sources(cli: SodaCli, directory: Path, data_files: list[str]) -> SodaSources:
    """Set up every variant over ``data_files`` in ``directory`` (untimed; reused if current).

    The DuckDB files are written by Soda's DuckDB, so their storage version is one it reads.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = directory / "made-with.json"  # remade when the files or Soda's pins change
    wanted = json.dumps({"files": sorted(data_files), "requirements": REQUIREMENTS}, indent=1)
    databases = {"view": directory / "view.duckdb", "table": directory / "table.duckdb"}
    links = directory / "parquet"
    fresh = stamp.is_file() and stamp.read_text() == wanted
    if not fresh or not all(p.is_file() for p in databases.values()):
        stamp.unlink(missing_ok=True)
        for path in databases.values():
            path.unlink(missing_ok=True)
        shutil.rmtree(links, ignore_errors=True)
        for index, file in enumerate(sorted(data_files)):
            (links / str(index)).mkdir(parents=True)
            (links / str(index) / f"{TABLE}.parquet").symlink_to(file)
        script = (
            "import duckdb, json, sys\n"
            "files = json.loads(sys.argv[3])\n"
            "for kind, path in (('VIEW', sys.argv[1]), ('TABLE', sys.argv[2])):\n"
            "    con = duckdb.connect(path)\n"
            f"    con.execute(f'CREATE {{kind}} {SCHEMA}.{TABLE} AS "
            "SELECT * FROM read_parquet(' + json.dumps(files).replace('\"', \"'\") + ')')\n"
            "    con.close()\n"
        )
        argv = [str(cli.python), "-c", script, str(databases["view"]), str(databases["table"])]
        run([*argv, json.dumps(sorted(data_files))])
        stamp.write_text(wanted)
    configs: dict[str, dict[str, Any]] = {
        "view": {"database": str(databases["view"]), "read_only": True},
        "table": {"database": str(databases["table"]), "read_only": True},
        "parquet": {"database": str(links / "*" / f"{TABLE}.parquet")},
    }
    paths: dict[str, Path] = {}
    for variant in VARIANTS:
        path = directory / f"data-source.{variant}.yaml"
        document = {"type": "duckdb", "name": DATA_SOURCE, "connection": configs[variant]}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        paths[variant] = path
    return SodaSources(paths, tuple(sorted(data_files)))


def read_report(path: Path) -> dict[str, Any]:
    """The JSON ``_soda_cli.py`` wrote: the verification's checks and whether it erred."""
    report = json.loads(path.read_text())
    assert isinstance(report, dict)
    return report


def could_not_run(report: dict[str, Any], exit_code: int) -> str | None:
    """Why Soda could not verify the data at all (its own error lines), or None.

    A contract Soda cannot parse, or a data source it cannot open, leaves no check with an
    outcome; the error log lines say why. A check left unevaluated among evaluated ones is
    an ``error`` outcome instead, which the comparison with floe's reports.
    """
    checks = report.get("checks") or []
    if any(c.get("outcome") not in (None, "NOT_EVALUATED") for c in checks):
        return None
    errors = report.get("errors") or []
    return "; ".join(errors) or f"no check was evaluated (exit {exit_code})"
