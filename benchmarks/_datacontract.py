"""datacontract-cli, the tool floe is compared with, in a virtual environment of its own.

``benchmarks/.venv-datacontract-<python>/`` is created on first use with pinned versions, on
the interpreter the benchmark runs on (so both tools run on the same build of Python), and
used by nothing but the comparison, so its dependencies never meet floe's. datacontract-cli reads an
Iceberg server (ODCS ``type: iceberg``) through pyiceberg's ``load_catalog``: a REST catalog
by default, any other pyiceberg catalog type with ``DATACONTRACT_ICEBERG_CATALOG_TYPE``. The
comparison sets it to ``sql``, so that it opens the very SQLite catalog floe reads; the SQL
catalog needs pyiceberg's ``sql-sqlite`` extra, which ``datacontract-cli[iceberg]`` lacks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _peer_venv import ensure_venv, venv_dir, versions

VENV = venv_dir("datacontract")
REQUIREMENTS = ("datacontract-cli[iceberg]==1.2.8", "pyiceberg[sql-sqlite]==0.12.0")
DISTRIBUTIONS = ("datacontract-cli", "pyiceberg", "duckdb", "pyarrow", "ibis-framework")


@dataclass(frozen=True)
class DataContractCli:
    """The installed ``datacontract`` command and the versions it runs with."""

    executable: Path
    versions: dict[str, str | None]

    def test_argv(self, contract: Path, output: Path) -> list[str]:
        """``datacontract test`` writing its JSON report to ``output``."""
        return [
            str(self.executable),
            "test",
            str(contract),
            "--output",
            str(output),
            "--output-format",
            "json",
        ]

    @staticmethod
    def environment() -> dict[str, str]:
        """This environment without ``DATACONTRACT_*`` settings, plus the SQL catalog type."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATACONTRACT_")}
        env["DATACONTRACT_ICEBERG_CATALOG_TYPE"] = "sql"
        return env


def ensure_datacontract(*, log: bool = True) -> DataContractCli:
    """The pinned datacontract-cli, installing it into its own venv when absent or outdated."""
    python = ensure_venv(VENV, REQUIREMENTS, "datacontract", log=log)
    return DataContractCli(VENV / "bin" / "datacontract", versions(python, DISTRIBUTIONS))


def read_report(path: Path) -> dict[str, Any]:
    """The JSON test report ``datacontract test --output`` wrote."""
    report = json.loads(path.read_text())
    assert isinstance(report, dict)
    return report


def could_not_run(report: dict[str, Any]) -> str | None:
    """Why datacontract-cli could not test the data at all (its own words), or None.

    A connection or read failure is reported as one extra check of type ``general`` (named
    "Data Contract Tests" or the step that failed) and leaves every planned check without a
    result.
    """
    checks = report.get("checks") or []
    broken = [
        c
        for c in checks
        if c.get("category") is None and c.get("result") in ("failed", "error") and c.get("reason")
    ]
    unrun = [c for c in checks if c.get("category") is not None and c.get("result") is None]
    if broken and unrun:
        return "; ".join(f"{c.get('name')}: {c.get('reason')}" for c in broken)
    return None
