"""The lifecycle a contract declares: its status, end of support, end of life and successor.

- ``status``: ODCS suggests proposed, draft, active, deprecated, retired (compared
  case-insensitively).
- ``slaProperties`` ``endOfSupport`` (synonym ``es``) and ``endOfLife`` (``el``): an ISO 8601
  date or datetime, quoted or not. A date means 00:00 UTC that day; a datetime without an
  offset is UTC.
- ``customProperties`` ``replacedBy``: what to migrate to, a contract id, name or URL (ODCS
  itself names a team member's successor ``replacedByUsername``).

The loader calls ``check_lifecycle`` on the parsed YAML, before the ODCS model sees it, so that
dates YAML has already turned into ``date`` objects reach the model as ISO strings and a bad
value fails the load with its path and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from floe_core._yaml import YamlDocument, format_path
from floe_core.contracts.model import DataContract
from floe_core.errors import ContractError

END_OF_SUPPORT = frozenset({"endofsupport", "es"})
END_OF_LIFE = frozenset({"endoflife", "el"})
REPLACED_BY = "replacedby"
#: Statuses that make the deprecation check report, whatever the dates say.
DEPRECATED, RETIRED = "deprecated", "retired"

_DATE_PROPERTIES = {
    **dict.fromkeys(END_OF_SUPPORT, "endOfSupport"),
    **dict.fromkeys(END_OF_LIFE, "endOfLife"),
}
_DAY = timedelta(days=1)
# (index in its list, property, value), from the model or from the raw YAML data alike.
_Entry = tuple[int, object, object]


class LifecycleError(ValueError):
    """A lifecycle value that cannot be understood; ``loc`` locates it in the contract."""

    def __init__(self, message: str, loc: Sequence[str | int]) -> None:
        self.loc = list(loc)
        self.path = format_path(self.loc)
        super().__init__(message)


@dataclass(frozen=True)
class LifecycleDate:
    """An ``endOfSupport`` or ``endOfLife`` date: the instant it takes effect, and its text."""

    at: datetime  # timezone-aware UTC
    text: str  # 2026-06-30 for a date, 2026-06-30T08:00:00Z for a datetime
    path: str  # where it is in the contract, such as slaProperties[2].value

    def days_from(self, now: datetime) -> int:
        """Whole days from ``now`` until the date, rounded up; 0 or less once it has passed."""
        return -((now - self.at) // _DAY)


@dataclass(frozen=True)
class Lifecycle:
    """What a contract says about its own lifecycle."""

    status: str | None  # lower-case
    end_of_support: LifecycleDate | None
    end_of_life: LifecycleDate | None
    replaced_by: str | None

    @property
    def declared(self) -> bool:
        """Whether there is anything for the deprecation check to judge."""
        return self.status in (DEPRECATED, RETIRED) or bool(self.end_of_support or self.end_of_life)


def parse_lifecycle_date(value: object, path: str = "") -> LifecycleDate:
    """``value`` (an ISO 8601 string, or a ``date``/``datetime`` as YAML makes them) in UTC."""
    text = value.isoformat() if isinstance(value, date) else value
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected an ISO 8601 date or datetime, found {value!r}")
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return LifecycleDate(datetime.combine(day, time(), UTC), day.isoformat(), path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date or datetime; write it as 2026-06-30 or "
            "2026-06-30T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return LifecycleDate(moment, moment.isoformat().replace("+00:00", "Z"), path)


def contract_lifecycle(contract: DataContract) -> Lifecycle:
    """The lifecycle ``contract`` declares; ``LifecycleError`` for a value that cannot be read."""
    slas = [(i, p.property, p.value) for i, p in enumerate(contract.slaProperties or [])]
    customs = [(i, p.property, p.value) for i, p in enumerate(contract.customProperties or [])]
    return _read(contract.status, slas, customs)


def check_lifecycle(data: dict[str, Any], doc: YamlDocument, source: str | Path) -> None:
    """Check the lifecycle dates and status of parsed contract ``data``.

    Runs on the parsed YAML before model validation; entries of the wrong shape are left for
    the model to report.
    """
    slas: list[_Entry] = []
    for index, entry in enumerate(_list(data.get("slaProperties"))):
        if not isinstance(entry, dict):
            continue
        slas.append((index, entry.get("property"), entry.get("value")))
    customs = [
        (index, entry.get("property"), entry.get("value"))
        for index, entry in enumerate(_list(data.get("customProperties")))
        if isinstance(entry, dict)
    ]
    try:
        _read(data.get("status"), slas, customs)
    except LifecycleError as exc:
        line = doc.line_of(exc.loc)
        where = f"{exc.path} (line {line})" if line else exc.path
        raise ContractError(str(exc), source=source, path=where) from None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: object) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _read(status: object, slas: Iterable[_Entry], customs: Iterable[_Entry]) -> Lifecycle:
    dates: dict[str, tuple[LifecycleDate, list[str | int]]] = {}
    for index, prop, value in slas:
        kind = _DATE_PROPERTIES.get(_name(prop))
        if kind is None:
            continue
        loc: list[str | int] = ["slaProperties", index, "value"]
        if kind in dates:
            raise LifecycleError(
                f"{kind} is given twice, at {dates[kind][0].path} and here; keep one",
                ["slaProperties", index, "property"],
            )
        try:
            dates[kind] = parse_lifecycle_date(value, format_path(loc)), loc
        except ValueError as exc:
            raise LifecycleError(f"{prop} SLA: {exc}", loc) from None
    support = dates["endOfSupport"][0] if "endOfSupport" in dates else None
    life, life_loc = dates.get("endOfLife", (None, []))
    if support and life and life.at < support.at:
        raise LifecycleError(
            f"endOfLife {life.text} is before endOfSupport {support.text}; support cannot "
            "outlast the end of life, so one of the dates is wrong",
            life_loc,
        )
    return Lifecycle(_name(status) or None, support, life, _replaced_by(customs))


def _replaced_by(customs: Iterable[_Entry]) -> str | None:
    found: str | None = None
    for index, prop, value in customs:
        if _name(prop) != REPLACED_BY:
            continue
        if found is not None:
            raise LifecycleError(
                "replacedBy is given twice; keep one", ["customProperties", index, "property"]
            )
        if not isinstance(value, str) or not value.strip():
            raise LifecycleError(
                "replacedBy must name what replaces this contract (a contract id, name or "
                f"URL) as one string, found {value!r}",
                ["customProperties", index, "value"],
            )
        found = value.strip()
    return found
