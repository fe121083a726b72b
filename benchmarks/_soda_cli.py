"""``soda`` (Soda Core 4's CLI) as its console script runs it, writing its results as JSON.

Runs in Soda's own venv (``_soda.py``), never in floe's::

    .venv-soda-*/bin/python _soda_cli.py OUTPUT contract verify --data-source DS --contract C

Everything after OUTPUT is ``soda``'s own command line. The only change to Soda's run is a
hook on ``interpret_contract_verification_result``, the function the ``verify`` handler
turns the session's result into the exit code with: before it returns, the result (every
check's type, name, column, outcome, measured value and diagnostics, and the verification's
error log lines) is written to OUTPUT. The exit code is Soda's.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import Enum
from typing import Any


def main() -> None:
    output, argv = sys.argv[1], sys.argv[2:]
    from soda_core.cli.handlers import contract as handlers

    interpret = handlers.interpret_contract_verification_result

    def capture(session_result: Any) -> Any:
        try:
            with open(output, "w") as out:
                json.dump(_session(session_result), out, indent=1, default=_plain)
        except Exception as exc:  # the exit code still says how verification went
            print(f"_soda_cli.py: could not write {output}: {exc!r}", file=sys.stderr)
        return interpret(session_result)

    handlers.interpret_contract_verification_result = capture
    from soda_core.cli.cli import execute  # the ``soda`` console script's entry point

    sys.argv = ["soda", *argv]
    sys.exit(execute())


def _session(session_result: Any) -> dict[str, Any]:
    results = list(getattr(session_result, "contract_verification_results", None) or [])
    checks = [_check(r) for result in results for r in result.check_results or []]
    errors = _call(session_result, "get_errors") or []
    return {
        "contracts": [
            {
                "dataset": getattr(
                    getattr(r, "contract", None), "soda_qualified_dataset_name", None
                ),
                "started": getattr(r, "started_timestamp", None),
                "ended": getattr(r, "ended_timestamp", None),
            }
            for r in results
        ],
        "checks": checks,
        "errors": [str(e) for e in errors],
    }


def _check(check_result: Any) -> dict[str, Any]:
    check = check_result.check
    doc = {
        "type": getattr(check, "type", None),
        "name": getattr(check, "name", None),
        "column": getattr(check, "column_name", None),
        "qualifier": getattr(check, "qualifier", None),
        "path": getattr(check, "path", None),
        "outcome": getattr(check_result.outcome, "name", str(check_result.outcome)),
        "threshold_value": getattr(check_result, "threshold_value", None),
        "diagnostics": getattr(check_result, "diagnostic_metric_values", None),
    }
    for extra in ("max_timestamp", "max_timestamp_utc", "data_timestamp_utc", "freshness"):
        if hasattr(check_result, extra):
            doc[extra] = getattr(check_result, extra)
    return doc


def _call(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    return value() if callable(value) else value


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dict):
        return dict(value)
    return str(value)


if __name__ == "__main__":
    main()
