"""Lifecycle values floe cannot read fail the load: one ``ContractError`` naming the path and
line, and exit 2 from ``floe sla check`` with one ``Error:`` line, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from floe_core.contracts.lifecycle import (
    LifecycleError,
    contract_lifecycle,
    parse_lifecycle_date,
)
from floe_core.contracts.loader import load_contract
from floe_core.contracts.model import DataContract
from floe_core.errors import ContractError
from floe_core.events import CheckStatus
from floe_core.monitoring.monitor import ContractMonitor

HEAD = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
name: orders
version: 1.0.0
status: deprecated
"""

# (contract text after HEAD, path in the message, line, words the message must hold)
CASES = {
    "not-a-date": (
        """\
slaProperties:
  - property: latency
    value: 6
    unit: h
  - property: retention
    value: 3
    unit: y
  - property: endOfSupport
    value: next spring
""",
        "slaProperties[2].value",
        15,
        ["endOfSupport", "'next spring'", "ISO 8601", "2026-06-30"],
    ),
    "impossible-date": (
        """\
slaProperties:
  - property: endOfLife
    value: "2026-02-30"
""",
        "slaProperties[0].value",
        9,
        ["endOfLife", "'2026-02-30'", "ISO 8601"],
    ),
    "a-number": (
        """\
slaProperties:
  - property: endOfSupport
    value: 2026
""",
        "slaProperties[0].value",
        9,
        ["endOfSupport", "found 2026"],
    ),
    "empty": (
        """\
slaProperties:
  - property: el
    value: ""
""",
        "slaProperties[0].value",
        9,
        ["el SLA", "found ''"],
    ),
    "end-of-life-first": (
        """\
slaProperties:
  - property: endOfSupport
    value: 2027-01-01
  - property: endOfLife
    value: 2026-01-01
""",
        "slaProperties[1].value",
        11,
        ["endOfLife 2026-01-01 is before endOfSupport 2027-01-01"],
    ),
    "twice": (
        """\
slaProperties:
  - property: endOfSupport
    value: 2027-01-01
  - property: EndOfSupport
    value: 2027-02-01
""",
        "slaProperties[1].property",
        10,
        ["endOfSupport is given twice", "slaProperties[0].value"],
    ),
    "replaced-by-not-a-string": (
        """\
customProperties:
  - property: owner
    value: sales
  - property: replacedBy
    value: {contract: orders-v2}
""",
        "customProperties[1].value",
        11,
        ["replacedBy must name what replaces this contract", "one string"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_contract_names_path_and_line(write_contract: Callable[..., Path], case: str) -> None:
    body, path, line, words = CASES[case]
    file = write_contract(HEAD + body)

    with pytest.raises(ContractError) as caught:
        load_contract(file)

    assert caught.value.path == f"{path} (line {line})"
    message = str(caught.value)
    assert message.startswith(f"{file}, at {path} (line {line}): ")
    for word in words:
        assert word in message


@pytest.mark.parametrize("case", ["not-a-date", "end-of-life-first"])
def test_cli_exits_2_with_one_error_line(
    write_contract: Callable[..., Path],
    manifest: Path,
    floe: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    body, path, line, words = CASES[case]
    file = write_contract(HEAD + body)

    result = floe("sla", "check", file, "--manifest", manifest, "--format", "json")

    everything = result.stdout + result.stderr
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2, everything
    assert "Traceback" not in everything
    assert not [r for r in caplog.records if r.exc_info]
    assert result.stdout == ""
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert f"{file}, at {path} (line {line}): " in error
    for word in words:
        assert word in error


@pytest.mark.parametrize(
    ("value", "at", "text"),
    [
        ("2026-06-30", datetime(2026, 6, 30, tzinfo=UTC), "2026-06-30"),
        ("20260630", datetime(2026, 6, 30, tzinfo=UTC), "2026-06-30"),
        ("2026-06-30T08:00:00Z", datetime(2026, 6, 30, 8, tzinfo=UTC), "2026-06-30T08:00:00Z"),
        ("2026-06-30 08:00", datetime(2026, 6, 30, 8, tzinfo=UTC), "2026-06-30T08:00:00Z"),
        (" 2026-06-30T10:00+02:00 ", datetime(2026, 6, 30, 8, tzinfo=UTC), "2026-06-30T08:00:00Z"),
    ],
)
def test_accepted_spellings(value: str, at: datetime, text: str) -> None:
    parsed = parse_lifecycle_date(value)
    assert (parsed.at, parsed.text) == (at, text)
    assert parsed.at.tzinfo is UTC


def test_contract_built_in_python_is_checked_at_run_time(tmp_path: Path) -> None:
    """A contract that never went through the loader: the check errors with the path."""
    contract = DataContract.model_validate(
        {
            "apiVersion": "v3.1.0",
            "kind": "DataContract",
            "id": "orders-v1",
            "name": "orders",
            "version": "1.0.0",
            "slaProperties": [{"property": "endOfLife", "value": "someday"}],
        }
    )
    with pytest.raises(LifecycleError) as caught:
        contract_lifecycle(contract)
    assert caught.value.path == "slaProperties[0].value"

    # No catalog under tmp_path: the deprecation check does not need one.
    monitor = ContractMonitor(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), home=tmp_path)
    monitor.register(contract)
    [result] = asyncio.run(monitor.check("orders", ["deprecation"]))

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "invalid_contract"
    assert result.details["message"].startswith("slaProperties[0].value: endOfLife SLA: ")
