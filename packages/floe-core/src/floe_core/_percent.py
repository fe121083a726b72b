"""Percentages as people read them, the same everywhere floe prints one.

One decimal place, rounded half away from zero (``83.3%``, ``99.5%``, ``100.0%``), except
that a value short of 100 never reads as ``100.0%`` and a value above 0 never reads as
``0.0%``: an uptime of 99.96% below a 99.99% SLA must not look met.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def percent(value: float | None, *, none: str = "-", sign: str = "%") -> str:
    """``value`` (already in percent) to one decimal place, with ``sign``; ``none`` for None."""
    if value is None or value != value:
        return none
    if value in (float("inf"), float("-inf")):
        return f"{value}{sign}"
    shown = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if shown == 100 and value < 100:
        shown = Decimal("99.9")
    elif shown == 0 and value > 0:
        shown = Decimal("0.1")
    elif shown == 0:
        shown = Decimal("0.0")  # no "-0.0%"
    return f"{shown}{sign}"
