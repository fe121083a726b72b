"""Read the SLAs floe checks out of a contract's ``slaProperties``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from floe_core.contracts.durations import DurationError, parse_duration
from floe_core.contracts.model import DataContract

#: ``slaProperties[].property`` names read as a freshness SLA (``latency`` is the ODCS name).
FRESHNESS_PROPERTIES = frozenset({"latency", "freshness"})


class SLAError(ValueError):
    """An SLA that cannot be understood; ``path`` locates it in the contract."""

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class FreshnessSLA:
    """Data must be at most ``threshold`` old, judged by ``column`` (or by commits if None)."""

    threshold: timedelta
    table: str | None  # schema object name the element names, if it names one
    column: str | None  # the timestamp column; None means "newest data commit"
    path: str  # where it is in the contract, such as slaProperties[0]


def split_element(element: str, object_names: set[str]) -> tuple[str | None, str]:
    """``orders.updated_at`` as (``orders``, ``updated_at``); a bare column as (None, column)."""
    head, sep, rest = element.partition(".")
    if sep and head in object_names:
        return head, rest
    return None, element


def freshness_slas(contract: DataContract) -> list[FreshnessSLA]:
    """Every freshness SLA of the contract; raise ``SLAError`` for one that cannot be read."""
    object_names = {obj.name for obj in contract.schema_ or [] if obj.name}
    slas: list[FreshnessSLA] = []
    for index, prop in enumerate(contract.slaProperties or []):
        if (prop.property or "").strip().lower() not in FRESHNESS_PROPERTIES:
            continue
        path = f"slaProperties[{index}]"
        try:
            threshold = parse_duration(prop.value, prop.unit)
        except DurationError as exc:
            raise SLAError(f"{prop.property} SLA: {exc}", f"{path}.{exc.field}") from None
        element = (prop.element or contract.slaDefaultElement or "").strip()
        elements: list[str | None] = [e.strip() for e in element.split(",") if e.strip()]
        for one in elements or [None]:
            table, column = split_element(one, object_names) if one else (None, None)
            slas.append(FreshnessSLA(threshold, table, column or None, path))
    return slas


#: ``slaProperties[].property`` names read as an availability SLA.
AVAILABILITY_PROPERTIES = frozenset({"availability"})
_PERCENT_UNITS = frozenset({"%", "percent", "percentage", "pct"})


@dataclass(frozen=True)
class AvailabilitySLA:
    """Probes must succeed ``target_pct`` percent of the time (exact, as written)."""

    target_pct: Decimal  # in (0, 100]
    path: str  # where it is in the contract, such as slaProperties[1]


def availability_slas(contract: DataContract) -> list[AvailabilitySLA]:
    """Every availability SLA (``value: 99.9, unit: percent`` or ``value: 99.9%``)."""
    slas: list[AvailabilitySLA] = []
    for index, prop in enumerate(contract.slaProperties or []):
        if (prop.property or "").strip().lower() not in AVAILABILITY_PROPERTIES:
            continue
        path = f"slaProperties[{index}]"
        target = _percent(prop.property or "", prop.value, prop.unit, path)
        slas.append(AvailabilitySLA(target, path))
    return slas


def _percent(name: str, value: object, unit: str | None, path: str) -> Decimal:
    unit_text = (unit or "").strip()
    if unit_text and unit_text.lower() not in _PERCENT_UNITS:
        raise SLAError(
            f"{name} SLA: unknown unit '{unit_text}'; an availability is a percentage, "
            "write unit: percent (or %)",
            f"{path}.unit",
        )
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not text:
        raise SLAError(
            f"{name} SLA: expected a percentage such as 99.9, found {value!r}", f"{path}.value"
        )
    has_sign = text.endswith("%")
    if not (has_sign or unit_text):
        raise SLAError(
            f"{name} SLA: the value {value!r} has no unit; add unit: percent "
            "(or write it as 99.9%)",
            f"{path}.value",
        )
    try:
        target = Decimal(text.removesuffix("%").strip())
    except InvalidOperation:
        raise SLAError(
            f"{name} SLA: expected a percentage such as 99.9, found {value!r}", f"{path}.value"
        ) from None
    if not target.is_finite() or not 0 < target <= 100:
        raise SLAError(
            f"{name} SLA: {value!r} is not a percentage above 0 and at most 100",
            f"{path}.value",
        )
    return target
