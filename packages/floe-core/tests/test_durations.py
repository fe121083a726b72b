from datetime import timedelta

import pytest

from floe_core.contracts.durations import (
    DurationError,
    format_duration,
    parse_duration,
    parse_iso_duration,
)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (30, "s", timedelta(seconds=30)),
        (15, "m", timedelta(minutes=15)),
        (15, "min", timedelta(minutes=15)),
        ("6", "h", timedelta(hours=6)),
        (1.5, "hours", timedelta(minutes=90)),
        (2, "d", timedelta(days=2)),
        (1, "Day", timedelta(days=1)),
        (1, "w", timedelta(weeks=1)),
        (1, "y", timedelta(days=365)),
        ("PT6H", None, timedelta(hours=6)),
        ("P1DT30M", None, timedelta(days=1, minutes=30)),
        ("pt90s", None, timedelta(seconds=90)),
        (500, "ms", timedelta(milliseconds=500)),
        ("500ms", None, timedelta(milliseconds=500)),
        ("6 h", None, timedelta(hours=6)),
    ],
)
def test_parse_duration_accepts_units_and_iso(value: object, unit: str | None, expected: timedelta):
    assert parse_duration(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit", "fragment"),
    [
        (6, "fortnights", "unknown unit 'fortnights'"),
        (6, None, "has no unit"),
        ("six", "h", "expected a number"),
        (0, "h", "greater than zero"),
        (-1, "d", "greater than zero"),
        (True, "h", "expected a duration"),
        ("PT", None, "not an ISO-8601 duration"),
        ("P1X", None, "not an ISO-8601 duration"),
        (1, "PT1H", "put it in value"),
        (float("inf"), "d", "not a finite number"),
        (10**30, "d", "too large"),
        ("P9999999999D", None, "too large"),
    ],
)
def test_parse_duration_rejects_with_a_reason(value: object, unit: str | None, fragment: str):
    with pytest.raises(DurationError, match=fragment):
        parse_duration(value, unit)


def test_iso_months_and_years_use_fixed_lengths():
    assert parse_iso_duration("P1Y2M") == timedelta(days=365 + 60)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(hours=6), "6h"),
        (timedelta(days=1, hours=2, minutes=3), "1d 2h"),
        (timedelta(minutes=45, seconds=10), "45m 10s"),
    ],
)
def test_format_duration(duration: timedelta, text: str):
    assert format_duration(duration) == text
