"""How floe words numbers and driver messages: percentages and multi-line errors."""

from __future__ import annotations

import pytest

from floe_core._percent import percent
from floe_core._redact import one_line


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (83.33333333, "83.3%"),
        (66.66666, "66.7%"),
        (50.05, "50.1%"),
        (100, "100.0%"),
        (0, "0.0%"),
        (-0.0, "0.0%"),
        (99.5, "99.5%"),
        # Never rounded up to a met SLA, nor down to nothing at all.
        (99.96, "99.9%"),
        (0.01, "0.1%"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_percent(value: float | None, shown: str) -> None:
    assert percent(value) == shown


def test_percent_options() -> None:
    assert percent(None, none="n/a") == "n/a"
    assert percent(12.34, sign="") == "12.3"


def test_one_line_joins_a_drivers_lines_as_sentences() -> None:
    message = (
        'connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
        "connections?\n(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    assert one_line(message) == (
        'connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused. Is the server running on that host and accepting TCP/IP "
        "connections?"
    )
    assert one_line("a:\n  b") == "a: b"
    assert one_line("  one  line  ") == "one line"
    assert one_line("") == ""
