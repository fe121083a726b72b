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

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _interpreter_tag() -> str:
    """The Python version and a short hash of the base interpreter's path."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    digest = hashlib.sha256(str(base).encode()).hexdigest()[:8]
    return f"{platform.python_version()}-{digest}"


VENV = Path(__file__).resolve().parent / f".venv-datacontract-{_interpreter_tag()}"
REQUIREMENTS = ("datacontract-cli[iceberg]==1.2.8", "pyiceberg[sql-sqlite]==0.12.0")
DISTRIBUTIONS = ("datacontract-cli", "pyiceberg", "duckdb", "pyarrow", "ibis-framework")
_MARKER = VENV / "floe-bench-requirements.txt"


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
    executable = VENV / "bin" / "datacontract"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    current = _MARKER.read_text() if _MARKER.is_file() else None
    if current != wanted or not executable.is_file():
        if log:
            print(f"installing {' '.join(REQUIREMENTS)} into {VENV} (once) ...", flush=True)
        if VENV.exists():
            shutil.rmtree(VENV)
        _run([sys.executable, "-m", "venv", str(VENV)])
        python = str(VENV / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, "--upgrade", "pip"])
        _run([*pip, *REQUIREMENTS])
        _MARKER.write_text(wanted)
    return DataContractCli(executable, _versions())


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


def _versions() -> dict[str, str | None]:
    script = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        f"print(json.dumps({{n: v(n) for n in {list(DISTRIBUTIONS)!r}}}))"
    )
    done = _run([str(VENV / "bin" / "python"), "-c", script])
    versions = json.loads(done.stdout)
    assert isinstance(versions, dict)
    return versions


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{tail}")
    return done
