"""An ``SLAReport`` as one self-contained HTML page: inline CSS and SVG, no scripts, no fetches.

Every string from the data (contract names, check types, the pattern) goes through
``html.escape``; measures show two decimals, a missing one an en dash. Each contract gets a
compliance-over-time chart over every window of the period, one line per check type, broken
where a window measured nothing, then a table of its check types.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date
from html import escape

from floe_core.reporting.build import windows
from floe_core.reporting.model import TREND_POINTS, ContractSummary, ReportRow, SLAReport, Trend

NONE = "\u2013"  # en dash
#: Line colour and dash per check type (Okabe-Ito colours; dashes tell them apart in print).
_STYLES = {
    "freshness": ("#0072B2", ""),
    "quality": ("#009E73", "7 3"),
    "availability": ("#D55E00", "2 3"),
    "schema_drift": ("#CC79A7", "9 3 2 3"),
}
_EXTRA = [("#E69F00", "4 2"), ("#56B4E9", "1 2"), ("#000000", "12 3")]
# The chart's canvas and plot box, in SVG user units.
_WIDTH, _HEIGHT = 720, 250
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 704, 14, 190
_INSET = 32  # keeps the first and last date labels inside the canvas
_MAX_LABELS = 8


def render_html(report: SLAReport) -> str:
    """The whole page; an empty report says its message and shows no table or chart."""
    parts = [_header(report)]
    if not report.empty:
        summaries = report.summaries()
        spans = _spans(report)
        parts.append(_summary_table(summaries))
        for index, summary in enumerate(summaries, 1):
            rows = [r for r in report.rows if r.contract_name == summary.contract_name]
            parts.append(_section(index, summary.contract_name, rows, spans, report))
        parts.append(_NOTES)
    title = f"SLA report {report.since.isoformat()} to {report.until.isoformat()}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + "\n</main>\n</body>\n</html>\n"
    )


def _header(report: SLAReport) -> str:
    facts = [
        ("Period", f"{report.since.isoformat()} {NONE} {report.until.isoformat()}"),
        ("Windows", report.window),
        ("Generated", report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    if report.contracts_pattern:
        facts.append(("Contracts", report.contracts_pattern))
    facts.append(("Data", _source(report)))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    kind = "message empty" if report.empty else "message"
    return (
        f'<header>\n<h1>SLA compliance report</h1>\n<dl class="facts">{items}</dl>\n'
        f'<p class="{kind}">{escape(report.message)}</p>\n</header>'
    )


def _source(report: SLAReport) -> str:
    """Where the numbers came from, as ``build_report`` chose."""
    through = report.aggregates_through
    if through is None or through < report.since:
        return "raw check results"
    if through >= report.until:
        return f"daily aggregates through {through.isoformat()}"
    return f"daily aggregates through {through.isoformat()}, raw check results after"


def _spans(report: SLAReport) -> list[date]:
    """The start of every window of the period, and of any window a row has besides."""
    starts = {start for start, _ in windows(report.since, report.until, report.window)}
    starts.update(w.start for r in report.rows for w in r.windows)
    return sorted(starts)


def _summary_table(summaries: Sequence[ContractSummary]) -> str:
    lines = []
    for index, s in enumerate(summaries, 1):
        by_type = "; ".join(
            f"{kind}: {_severities(counts)}" for kind, counts in s.violations.items()
        )
        lines.append(
            f'<tr><th scope="row"><a href="#contract-{index}">{escape(s.contract_name)}</a></th>'
            + f'<td class="num">{s.totals.total_checks}</td>'
            + _cells(
                s.totals.compliance_pct,
                s.freshness_compliance_pct,
                s.uptime_pct,
                s.avg_quality_score,
            )
            + f'<td class="num">{s.totals.violation_count}</td>'
            + f"<td>{escape(by_type) or NONE}</td></tr>"
        )
    head = _head(
        "Contract",
        "Checks",
        "Compliance %",
        "Freshness compliance %",
        "Uptime %",
        "Avg quality score",
        "Violations",
        "Violations by type and severity",
    )
    return (
        '<section class="summary">\n<h2>Summary</h2>\n<table>'
        f"{head}<tbody>{''.join(lines)}</tbody></table>\n</section>"
    )


def _section(
    index: int, name: str, rows: Sequence[ReportRow], spans: Sequence[date], report: SLAReport
) -> str:
    return (
        f'<section class="contract" id="contract-{index}">\n<h2>{escape(name)}</h2>\n'
        f"{_chart(name, rows, spans, report)}\n{_rows_table(rows)}\n</section>"
    )


def _chart(name: str, rows: Sequence[ReportRow], spans: Sequence[date], report: SLAReport) -> str:
    """An SVG line chart of compliance % per window, a path and points per check type."""

    def x(i: int) -> float:
        share = i / (len(spans) - 1) if len(spans) > 1 else 0.5
        return _LEFT + _INSET + (_RIGHT - _LEFT - 2 * _INSET) * share

    def y(pct: float) -> float:
        return _BOTTOM - (_BOTTOM - _TOP) * pct / 100

    label = f"Compliance % per {report.window} window of {name}, one line per check type"
    out = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" font-size="11" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}; gaps are windows with no measured checks</title>",
        '<g class="grid">',
    ]
    for level in (0, 25, 50, 75, 100):
        dash = "" if level in (0, 100) else ' stroke-dasharray="3 3"'
        out.append(
            f'<line x1="{_LEFT}" y1="{y(level):.1f}" x2="{_RIGHT}" y2="{y(level):.1f}" '
            f'stroke="#c4c4c4"{dash}/>'
            f'<text x="{_LEFT - 6}" y="{y(level) + 4:.1f}" text-anchor="end">{level}%</text>'
        )
    step = math.ceil(len(spans) / _MAX_LABELS)
    for i in range(0, len(spans), step):
        out.append(
            f'<text x="{x(i):.1f}" y="{_BOTTOM + 20}" text-anchor="middle">'
            f"{spans[i].isoformat()}</text>"
        )
    out.append("</g>")
    for n, row in enumerate(rows):
        colour, dashes = _STYLES.get(row.check_type) or _EXTRA[n % len(_EXTRA)]
        kind = escape(row.check_type)
        compliance = {w.start: w.totals.compliance_pct for w in row.windows}
        moves, points, drawing = [], [], False
        for i, start in enumerate(spans):
            pct = compliance.get(start)
            if pct is None:
                drawing = False
                continue
            moves.append(f"{'L' if drawing else 'M'}{x(i):.1f},{y(pct):.1f}")
            points.append(
                f'<circle cx="{x(i):.1f}" cy="{y(pct):.1f}" r="3" fill="{colour}">'
                f"<title>{kind} {start.isoformat()}: {_fmt(pct)}%</title></circle>"
            )
            drawing = True
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        legend_x = _LEFT + 140 * n
        out += [
            f'<g class="series" data-check-type="{kind}">',
            f'<path d="{" ".join(moves)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>',
            *points,
            f'<line x1="{legend_x}" y1="{_HEIGHT - 14}" x2="{legend_x + 24}" '
            f'y2="{_HEIGHT - 14}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 30}" y="{_HEIGHT - 10}">{kind}</text>',
            "</g>",
        ]
    out.append("</svg>")
    return "\n".join(out)


def _rows_table(rows: Sequence[ReportRow]) -> str:
    lines = []
    for row in rows:
        t = row.totals
        quality = (
            NONE
            if t.avg_quality_score is None
            else f"{_fmt(t.avg_quality_score)} ({_fmt(t.min_quality_score)}"
            f"{NONE}{_fmt(t.max_quality_score)})"
        )
        violations = str(t.violation_count)
        if row.violations_by_severity:
            violations += f" ({_severities(row.violations_by_severity)})"
        lines.append(
            f'<tr><th scope="row">{escape(row.check_type)}</th>'
            f'<td class="num">{row.coverage.executed} / {_count(row.coverage.expected)}</td>'
            + _cells(row.coverage.pct)
            + f'<td class="num">{t.passed_checks} / {t.failed_checks} / {t.error_checks}</td>'
            + _cells(t.compliance_pct)
            + f"<td>{escape(violations)}</td>"
            + _cells(t.uptime_pct)
            + f'<td class="num">{quality}</td>'
            + f"<td>{_trend(row.trend)}</td><td>{_trend(row.quality_score_trend)}</td></tr>"
        )
    head = _head(
        "Check type",
        "Executed / expected",
        "Coverage %",
        "Passed / failed / errored",
        "Compliance %",
        "Violations",
        "Uptime %",
        "Quality score avg (min\u2013max)",
        "Trend",
        "Quality-score trend",
    )
    return f"<table>{head}<tbody>{''.join(lines)}</tbody></table>"


def _head(*names: str) -> str:
    return "<thead><tr>" + "".join(f'<th scope="col">{n}</th>' for n in names) + "</tr></thead>"


def _cells(*values: float | None) -> str:
    return "".join(f'<td class="num">{_fmt(v)}</td>' for v in values)


def _fmt(value: float | None) -> str:
    """Two decimals, or an en dash for ``None``."""
    return NONE if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return NONE if value is None else str(value)


def _severities(counts: dict[str, int]) -> str:
    return ", ".join(f"{severity} {count}" for severity, count in counts.items()) or NONE


def _trend(value: Trend | None) -> str:
    arrows = {"improving": "\u2191 improving", "degrading": "\u2193 degrading"}
    return NONE if value is None else arrows.get(value, "\u2192 stable")


_NOTES = (
    "<footer>\n<p>Compliance % = passed / (passed + failed): errored and skipped runs measured "
    "nothing. Coverage % = checks executed / checks the interval expects while the contract was "
    "monitored. A trend is a move of at least "
    f"{TREND_POINTS:g} point{'s' if TREND_POINTS != 1 else ''} in compliance (or quality score) "
    "from the previous window with checks. Violations by severity count only the violations "
    "still within retention.</p>\n</footer>"
)

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1b1b1b; background: #fff; max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #999;
  padding-bottom: .2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
.message { font-size: 1.05rem; margin: .75rem 0; }
.empty { padding: .75rem 1rem; border: 1px solid #767676; background: #f4f4f4; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #c4c4c4; padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: #eef0f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
a { color: #0b5cad; }
svg.chart { display: block; width: 100%; max-width: 720px; height: auto; }
svg text { font: 11px system-ui, Arial, sans-serif; fill: #333; }
footer { margin-top: 2rem; border-top: 1px solid #c4c4c4; padding-top: .5rem;
  font-size: .85rem; color: #444; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.contract { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""
