"""Slack Block Kit messages for violations and resolutions, always within Slack's limits.

Slack rejects a whole message that breaks one limit, so every text is cut to fit (with an
ellipsis) and a large group is summarised rather than listed: the most severe events in full,
then one section that counts the rest by violation type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, NotRequired, TypedDict

from floe_core.events import ContractViolationEvent, ResolvedNotice, ViolationSeverity

# Slack's documented limits (docs.slack.dev, Block Kit reference).
MAX_BLOCKS = 50  # blocks in one message
MAX_HEADER_TEXT = 150  # header block text
MAX_SECTION_TEXT = 3000  # section block text
MAX_SECTION_FIELDS = 10  # fields of one section block
MAX_FIELD_TEXT = 2000  # text of one section field
MAX_CONTEXT_ELEMENTS = 10  # elements of one context block

# floe's own choices, within those limits.
#: Events shown in full before the rest are summarised: a chat message is not a report.
MAX_FULL_EVENTS = 20
#: Characters a value (expected, actual, element...) may take in a field.
MAX_VALUE = 500
#: Characters of block text after which further events are summarised. Slack answers
#: msg_blocks_too_long for messages far below the documented limits (around 13,000
#: characters in practice), so floe stays under that.
TEXT_BUDGET = 10_000
ELLIPSIS = "…"

# The header, two blocks per event in full, and the summary section must fit.
assert 1 + 2 * MAX_FULL_EVENTS + 1 <= MAX_BLOCKS

_EMOJI = {
    ViolationSeverity.CRITICAL: ":rotating_light:",
    ViolationSeverity.ERROR: ":red_circle:",
    ViolationSeverity.WARNING: ":warning:",
    ViolationSeverity.INFO: ":information_source:",
}
# Slack's mrkdwn treats these three as control characters (links, mentions such as
# <!channel>); everything else it shows as written.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class Text(TypedDict):
    """A Block Kit text object."""

    type: Literal["plain_text", "mrkdwn"]
    text: str
    emoji: NotRequired[bool]


class HeaderBlock(TypedDict):
    type: Literal["header"]
    text: Text


class SectionBlock(TypedDict):
    type: Literal["section"]
    text: Text
    fields: NotRequired[list[Text]]


class ContextBlock(TypedDict):
    type: Literal["context"]
    elements: list[Text]


Block = HeaderBlock | SectionBlock | ContextBlock


class Message(TypedDict):
    """The body of an incoming-webhook POST: ``text`` is the notification's fallback."""

    text: str
    blocks: list[Block]


def alert_message(events: Sequence[ContractViolationEvent]) -> Message:
    """One message for the events of one contract run, most severe first."""
    ordered = sorted(events, key=lambda event: -event.severity.rank)
    top = ordered[0]
    blocks: list[Block] = [
        {"type": "header", "text": plain(_headline(ordered, emoji=True), MAX_HEADER_TEXT)}
    ]
    used = 0
    shown = 0
    for event in ordered[:MAX_FULL_EVENTS]:
        section, context = _event_blocks(event)
        size = _size(section) + _size(context)
        if shown and used + size > TEXT_BUDGET:
            break
        blocks += [section, context]
        used += size
        shown += 1
    rest = ordered[shown:]
    if rest:
        blocks.append(_summary(rest))
    fallback = _headline(ordered, emoji=False)
    if top.message and len(ordered) == 1:
        fallback = f"{fallback}: {top.message}"
    return {"text": mrkdwn(fallback, MAX_SECTION_TEXT), "blocks": blocks}


def resolved_message(notice: ResolvedNotice) -> Message:
    """A short message saying an alerted violation is over."""
    what = (
        f"contract {notice.contract_name} {notice.contract_version}, {notice.violation_type.value}"
    )
    lines = [f":white_check_mark: *Resolved*: {escape(what)}", escape(notice.message)]
    if notice.elements:
        lines.append("Elements: " + escape(", ".join(notice.elements)))
    context = f"Alerted {_when(notice.alerted_at)} · resolved {_when(notice.resolved_at)}"
    return {
        "text": mrkdwn(f"Resolved: {what}: {notice.message}", MAX_SECTION_TEXT),
        "blocks": [
            {"type": "section", "text": _mrkdwn_text("\n".join(lines), MAX_SECTION_TEXT)},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def _headline(events: Sequence[ContractViolationEvent], *, emoji: bool) -> str:
    top = events[0]
    contracts = ", ".join(dict.fromkeys(event.contract_name for event in events))
    types = list(dict.fromkeys(event.violation_type.value for event in events))
    prefix = f"{_EMOJI[top.severity]} " if emoji else ""
    head = f"{prefix}{top.severity.value.upper()}: contract {contracts}"
    if len(types) == 1:
        count = f" ({len(events)} violations)" if len(events) > 1 else ""
        return f"{head} broke its {types[0]} SLA{count}"
    return f"{head}: {len(events)} violations ({', '.join(types)})"


def _event_blocks(event: ContractViolationEvent) -> tuple[SectionBlock, ContextBlock]:
    values = {
        "Contract": event.contract_name,
        "Version": event.contract_version,
        "Violation type": event.violation_type.value,
        "Severity": event.severity.value,
        "Element": event.element or "-",
        "Expected": event.expected_value or "-",
        "Actual": event.actual_value or "-",
        "Affected consumers": ", ".join(event.affected_consumers) or "-",
    }
    fields = [
        _mrkdwn_text(f"*{label}*\n{escape(truncate(value, MAX_VALUE))}", MAX_FIELD_TEXT)
        for label, value in values.items()
    ]
    headline = f"{_EMOJI[event.severity]} *{event.severity.value.upper()}* "
    section: SectionBlock = {
        "type": "section",
        "text": _mrkdwn_text(headline + escape(event.message or "-"), MAX_SECTION_TEXT),
        "fields": fields[:MAX_SECTION_FIELDS],
    }
    took = f"check took {event.check_duration_seconds:.2f} s"
    context: ContextBlock = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Detected {_when(event.timestamp)} · {took}"}],
    }
    return section, context


def _summary(rest: Sequence[ContractViolationEvent]) -> SectionBlock:
    by_type = Counter(event.violation_type.value for event in rest)
    counts = ", ".join(f"{count} {name}" for name, count in by_type.most_common())
    text = f"*…and {len(rest)} more*: {counts}"
    elements = list(dict.fromkeys(event.element for event in rest if event.element))
    if elements:
        text += "\nElements: " + escape(", ".join(elements))
    return {"type": "section", "text": _mrkdwn_text(text, MAX_SECTION_TEXT)}


def _when(at: datetime) -> str:
    """Slack's date token: shown in the reader's time zone, ``at`` in UTC where unsupported."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time_secs}}|{at.isoformat()}>"


def _size(block: Block) -> int:
    if block["type"] == "context":
        return sum(len(element["text"]) for element in block["elements"])
    if block["type"] == "section":
        return len(block["text"]["text"]) + sum(len(f["text"]) for f in block.get("fields", []))
    return len(block["text"]["text"])


def plain(text: str, limit: int) -> Text:
    """A plain-text object (shortcodes such as :warning: shown as emoji), cut to ``limit``."""
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def _mrkdwn_text(text: str, limit: int) -> Text:
    return {"type": "mrkdwn", "text": truncate(text, limit)}


def escape(text: str) -> str:
    """``text`` shown literally in mrkdwn: no links, no mentions such as <!channel>."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def mrkdwn(text: str, limit: int) -> str:
    """``text`` escaped for mrkdwn and cut to ``limit`` characters, never inside an escape."""
    return truncate(escape(text), limit)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters with an ellipsis, never inside an escape
    such as ``&amp;`` or a Slack token such as ``<!date^...>``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp, lt = cut.rfind("&"), cut.rfind("<")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    return cut + ELLIPSIS
