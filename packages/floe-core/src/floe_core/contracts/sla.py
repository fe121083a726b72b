"""Read the SLAs floe checks out of a contract's ``slaProperties``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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
