"""Conformance: ODCS v3 contracts written by others load, or fail with a clear ContractError.

The corpus (131 contracts from the ODCS standard's examples and datacontract-cli's fixtures)
lives outside the repository, in ``../shared/odcs-corpus`` beside it (``tests/_shared.py``);
``$FLOE_ODCS_CORPUS`` points elsewhere. Without it the tests skip, unless
``FLOE_REQUIRE_CORPUS=1`` (as ``.ci/run`` sets), when they fail instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from floe_core.contracts.loader import load_contract
from floe_core.errors import ContractError
from tests._shared import shared_dir

CORPUS = Path(os.environ.get("FLOE_ODCS_CORPUS") or shared_dir() / "odcs-corpus").resolve()
CONTRACTS = sorted([*CORPUS.glob("*.yaml"), *CORPUS.glob("*.yml")])


def test_corpus_is_present() -> None:
    if not CORPUS.is_dir():
        problem = f"ODCS corpus not found at {CORPUS}; set FLOE_ODCS_CORPUS to its folder"
        if os.environ.get("FLOE_REQUIRE_CORPUS") == "1":
            pytest.fail(f"FLOE_REQUIRE_CORPUS=1 but the {problem}")
        pytest.skip(problem)
    assert len(CONTRACTS) >= 100


@pytest.mark.parametrize("path", CONTRACTS, ids=[p.name for p in CONTRACTS])
def test_loads_or_raises_contract_error(path: Path) -> None:
    try:
        contract = load_contract(path)
    except ContractError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") or message.startswith(f"{path}, at ")
        assert len(message) > len(f"{path}: ") + 20
        assert "Traceback" not in message
    else:
        assert contract.kind == "DataContract"
        assert contract.apiVersion is not None
        assert contract.apiVersion.startswith("v3.")


@pytest.mark.parametrize("path", CONTRACTS, ids=[p.name for p in CONTRACTS])
def test_cli_json_against_empty_catalog(
    path: Path,
    manifest: Path,
    floe: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = floe("sla", "check", path, "--format", "json", "--manifest", manifest)
    everything = result.stdout + result.stderr
    assert result.exception is None, repr(result.exception)
    assert result.exit_code in (0, 1, 2), everything
    assert "Traceback" not in everything
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    if result.stdout.strip():
        report = json.loads(result.stdout)
        assert {"contract_name", "contract_version", "results", "violations"} <= set(report)
        reasons = [r["details"].get("reason") for r in report["results"]]
        assert "internal_error" not in reasons, report
    if result.exit_code == 2:
        error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1, result.stderr
    else:
        assert result.stderr.strip() == ""
        assert result.stdout.strip(), "exit 0/1 without a JSON report"
