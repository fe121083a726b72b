"""Parse SLA durations: a value with a unit (``6`` + ``h``) or an ISO-8601 duration (``PT6H``).

Years count as 365 days and months as 30 days; ODCS itself gives no calendar for them.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

_UNIT_SECONDS: dict[str, float] = {}
for _names, _seconds in (
    (("ms", "msec", "millisecond", "milliseconds"), 0.001),
    (("s", "sec", "secs", "second", "seconds"), 1),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("h", "hr", "hrs", "hour", "hours"), 3600),
    (("d", "day", "days"), 86400),
    (("w", "wk", "wks", "week", "weeks"), 7 * 86400),
    (("mo", "month", "months"), 30 * 86400),
    (("y", "yr", "yrs", "year", "years"), 365 * 86400),
):
    for _name in _names:
        _UNIT_SECONDS[_name] = _seconds

#: The unit spellings accepted, for error messages.
KNOWN_UNITS = (
    "ms, s, m/min, h, d, w, mo, y (or their full names), or an ISO-8601 duration like PT6H"
)

_NUM = r"(\d+(?:[.,]\d+)?)"
_ISO = re.compile(
    rf"^P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$",
    re.IGNORECASE,
)
_ISO_SECONDS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)
# A number and a unit in one string, as some contracts write them: "500ms", "6 h".
_COMPACT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")


class DurationError(ValueError):
    """A duration that cannot be understood; ``field`` (value or unit) is the part at fault."""

    def __init__(self, message: str, field: str = "value") -> None:
        self.field = field
        super().__init__(message)


def parse_iso_duration(text: str) -> timedelta:
    """``PT6H`` as six hours; raise ``DurationError`` for anything that is not ISO-8601."""
    match = _ISO.match(text.strip())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise DurationError(f"'{text}' is not an ISO-8601 duration (such as PT6H or P1D)")
    seconds = sum(
        float(part.replace(",", ".")) * scale
        for part, scale in zip(match.groups(), _ISO_SECONDS, strict=True)
        if part
    )
    return _timedelta(seconds, text)


def parse_duration(value: object, unit: str | None) -> timedelta:
    """A positive duration from an SLA ``value`` and ``unit``."""
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration, found {value!r}")
    if unit is None or not str(unit).strip():
        if isinstance(value, str) and value.strip().upper().startswith("P"):
            return _positive(parse_iso_duration(value), value)
        compact = _COMPACT.match(value) if isinstance(value, str) else None
        if compact:
            return parse_duration(compact.group(1), compact.group(2))
        raise DurationError(f"the value {value!r} has no unit; add unit: with one of {KNOWN_UNITS}")
    unit_text = str(unit).strip()
    if unit_text.upper().startswith("P"):
        raise DurationError(
            f"unit '{unit_text}' looks like an ISO-8601 duration; put it in value", "unit"
        )
    scale = _UNIT_SECONDS.get(unit_text.lower())
    if scale is None:
        raise DurationError(f"unknown unit '{unit_text}'; use one of {KNOWN_UNITS}", "unit")
    try:
        amount = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DurationError(f"expected a number with unit '{unit_text}', found {value!r}") from None
    return _positive(_timedelta(amount * scale, value), value)


def _timedelta(seconds: float, value: object) -> timedelta:
    if not math.isfinite(seconds):
        raise DurationError(f"the duration {value!r} is not a finite number")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise DurationError(
            f"the duration {value!r} is too large; use at most {timedelta.max.days} days"
        ) from None


def _positive(duration: timedelta, value: object) -> timedelta:
    if duration <= timedelta(0):
        raise DurationError(f"the duration {value!r} must be greater than zero")
    return duration


def format_duration(duration: timedelta) -> str:
    """A short human form: ``6h``, ``1d 2h``, ``45m 10s``, ``0s``."""
    total = round(duration.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for name, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{name}")
    return sign + (" ".join(parts[:2]) if parts else "0s")
