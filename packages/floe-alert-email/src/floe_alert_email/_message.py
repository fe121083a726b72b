"""The emails themselves: multipart/alternative, plain text and HTML, every value escaped.

A contract run's violations make one email whose subject names the worst severity, the
contract and the violation types (``[floe CRITICAL] orders: schema_drift, freshness``); its
body lists every event, most severe first.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from floe_core.events import ContractViolationEvent, ResolvedNotice, ViolationSeverity

_SEVERITY_COLOURS = {
    ViolationSeverity.INFO: "#1f6feb",
    ViolationSeverity.WARNING: "#d29922",
    ViolationSeverity.ERROR: "#cf222e",
    ViolationSeverity.CRITICAL: "#82071e",
}
_FOOTER = "Sent by floe contract monitoring."
_COLUMNS = (
    "Severity",
    "Violation",
    "Element",
    "Message",
    "Expected",
    "Actual",
    "Affected consumers",
    "Detected at",
    "Details",
)


def alert_message(
    events: Sequence[ContractViolationEvent], *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """One email listing ``events`` (one contract run's), most severe first."""
    ordered = sorted(events, key=lambda event: -event.severity.rank)
    worst = ordered[0].severity.value.upper()
    contracts = _distinct(event.contract_name for event in ordered)
    types = _distinct(event.violation_type.value for event in ordered)
    subject = f"[floe {worst}] {', '.join(contracts)}: {', '.join(types)}"
    versions = _distinct(f"{e.contract_name} {e.contract_version}" for e in ordered)
    count = f"{len(ordered)} violation{'s' if len(ordered) != 1 else ''}"
    intro = f"floe found {count} of data contract {', '.join(versions)}."
    text = [intro, ""]
    for number, event in enumerate(ordered, 1):
        text.append(f"{number}. {event.severity.value.upper()} {event.violation_type.value}")
        text.extend(f"   {line}" for line in event.message.splitlines() or [""])
        text.extend(f"   {label}: {value}" for label, value in _facts(event) if value)
        text.append("")
    rows = "\n".join(_row(event) for event in ordered)
    head = "".join(f"<th>{name}</th>" for name in _COLUMNS)
    body = (
        f"<p>floe found <strong>{count}</strong> of data contract "
        f"<strong>{_e(', '.join(versions))}</strong>.</p>\n"
        '<table border="1" cellpadding="6" cellspacing="0" style="border-collapse: collapse">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
    )
    return _message(subject, "\n".join([*text, "--", _FOOTER]), body, sender, recipients)


def resolved_message(
    notice: ResolvedNotice, *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """One short email saying that ``notice``'s violation is over."""
    kind = notice.violation_type.value
    subject = f"[floe RESOLVED] {notice.contract_name}: {kind}"
    intro = (
        f"The {kind} violation of data contract {notice.contract_name} "
        f"{notice.contract_version} is resolved."
    )
    facts = [
        ("Elements", ", ".join(notice.elements)),
        ("Alerted at", _when(notice.alerted_at)),
        ("Resolved at", _when(notice.resolved_at)),
    ]
    text = [intro, notice.message, ""]
    text.extend(f"{label}: {value}" for label, value in facts if value)
    items = "".join(f"<li>{label}: {_e(value)}</li>" for label, value in facts if value)
    body = f"<p>{_e(intro)}</p>\n<p>{_e(notice.message)}</p>\n<ul>{items}</ul>"
    return _message(subject, "\n".join([*text, "", "--", _FOOTER]), body, sender, recipients)


def _message(
    subject: str, text: str, body: str, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # a header is one line, whatever names say
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("floe", domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(text + "\n")
    message.add_alternative(
        '<!DOCTYPE html>\n<html>\n<body style="font-family: sans-serif">\n'
        f'{body}\n<p style="color: #666666">{_FOOTER}</p>\n</body>\n</html>\n',
        subtype="html",
    )
    return message


def _facts(event: ContractViolationEvent) -> list[tuple[str, str]]:
    return [
        ("element", event.element or ""),
        ("expected", event.expected_value or ""),
        ("actual", event.actual_value or ""),
        ("affected consumers", ", ".join(event.affected_consumers)),
        ("detected at", _when(event.timestamp)),
        *sorted(event.metadata.items()),
    ]


def _row(event: ContractViolationEvent) -> str:
    colour = _SEVERITY_COLOURS[event.severity]
    details = "<br>".join(
        f"{_e(key)}: {_e(value)}" for key, value in sorted(event.metadata.items())
    )
    cells = [
        f'<td style="color: {colour}; font-weight: bold">{event.severity.value.upper()}</td>',
        f"<td>{_e(event.violation_type.value)}</td>",
        f"<td>{_e(event.element or '')}</td>",
        f"<td>{_e(event.message)}</td>",
        f"<td>{_e(event.expected_value or '')}</td>",
        f"<td>{_e(event.actual_value or '')}</td>",
        f"<td>{_e(', '.join(event.affected_consumers))}</td>",
        f"<td>{_e(_when(event.timestamp))}</td>",
        f"<td>{details}</td>",
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # floe's times are UTC; say so
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
