"""An ``SLAReport`` as one self-contained HTML page: inline CSS and SVG, no scripts, no fetches.

Every string from the data (contract names, check types, the pattern) goes through
``html.escape``. Percentages are ``floe_core._percent.percent`` (one decimal, as the table
prints them), quality scores one decimal, a missing value an en dash. The page is as wide as
the browser window. Each contract gets a compliance-over-time chart (``_chart``), one line per
check type, from the first window of the report with history to the end of the period, then
a table of its check types.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from html import escape

from floe_core._percent import percent
from floe_core.reporting import _chart
from floe_core.reporting.build import windows
from floe_core.reporting.model import TREND_POINTS, ContractSummary, ReportRow, SLAReport, Trend

NONE = "\u2013"  # en dash


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
    """The start of every window from the first with history to the end of the period."""
    first = min(w.start for r in report.rows for w in r.windows)
    starts = {start for start, _ in windows(report.since, report.until, report.window)}
    starts.update(w.start for r in report.rows for w in r.windows)
    return sorted(start for start in starts if start >= first)


def _summary_table(summaries: Sequence[ContractSummary]) -> str:
    lines = []
    for index, s in enumerate(summaries, 1):
        by_type = "; ".join(
            f"{kind}: {_severities(counts)}" for kind, counts in s.violations.items()
        )
        lines.append(
            f'<tr><th scope="row"><a href="#contract-{index}">{escape(s.contract_name)}</a></th>'
            + f'<td class="num">{s.totals.total_checks}</td>'
            + _percents(s.totals.compliance_pct, s.freshness_compliance_pct, s.uptime_pct)
            + f'<td class="num">{_score(s.avg_quality_score)}</td>'
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
        '<section class="summary">\n<h2>Summary</h2>\n<div class="table"><table>'
        f"{head}<tbody>{''.join(lines)}</tbody></table></div>\n</section>"
    )


def _section(
    index: int, name: str, rows: Sequence[ReportRow], spans: Sequence[date], report: SLAReport
) -> str:
    return (
        f'<section class="contract" id="contract-{index}">\n<h2>{escape(name)}</h2>\n'
        f"{_chart.chart(name, rows, spans, report.window)}\n{_rows_table(rows)}\n</section>"
    )


def _rows_table(rows: Sequence[ReportRow]) -> str:
    lines = []
    for row in rows:
        t = row.totals
        quality = (
            NONE
            if t.avg_quality_score is None
            else f"{_score(t.avg_quality_score)} ({_score(t.min_quality_score)}"
            f"{NONE}{_score(t.max_quality_score)})"
        )
        violations = str(t.violation_count)
        if row.violations_by_severity:
            violations += f" ({_severities(row.violations_by_severity)})"
        lines.append(
            f'<tr><th scope="row">{escape(row.check_type)}</th>'
            f'<td class="num">{row.coverage.text(NONE, " / ")}</td>'
            + _percents(row.coverage.pct)
            + f'<td class="num">{t.passed_checks} / {t.failed_checks} / {t.error_checks}</td>'
            + _percents(t.compliance_pct)
            + f"<td>{escape(violations)}</td>"
            + _percents(t.uptime_pct)
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
    return f'<div class="table"><table>{head}<tbody>{"".join(lines)}</tbody></table></div>'


def _head(*names: str) -> str:
    return "<thead><tr>" + "".join(f'<th scope="col">{n}</th>' for n in names) + "</tr></thead>"


def _percents(*values: float | None) -> str:
    """A cell per percentage, without the sign (the column heads say it)."""
    return "".join(f'<td class="num">{percent(v, none=NONE, sign="")}</td>' for v in values)


def _score(value: float | None) -> str:
    """A quality score (0-100) to one decimal, or an en dash for ``None``."""
    return NONE if value is None else f"{value:.1f}"


def _severities(counts: dict[str, int]) -> str:
    return ", ".join(f"{severity} {count}" for severity, count in counts.items()) or NONE


def _trend(value: Trend | None) -> str:
    arrows = {"improving": "\u2191 improving", "degrading": "\u2193 degrading"}
    return NONE if value is None else arrows.get(value, "\u2192 stable")


_NOTES = (
    "<footer>\n<p>Compliance % = passed / (passed + failed): errored and skipped runs measured "
    "nothing. Coverage % = runs executed (passed, failed or errored; a skipped run did not "
    "execute) / runs the check interval made due while the contract was monitored; "
    f"{NONE} where nothing was due (no interval, or not monitored then). A trend is a move of "
    f"at least {TREND_POINTS:g} point{'s' if TREND_POINTS != 1 else ''} in compliance (or "
    "quality score) from the previous window with checks. Violations by severity count only "
    "the violations still within retention. Charts start at the report's first window with "
    "check history; a point's value shows on hover, and as a label where the width allows."
    "</p>\n</footer>"
)

_CSS = (
    """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1b1b1b; background: #fff; margin: 0; padding: 1.5rem clamp(1rem, 3vw, 3rem); }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #999;
  padding-bottom: .2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
.message { font-size: 1.05rem; margin: .75rem 0; }
.empty { padding: .75rem 1rem; border: 1px solid #767676; background: #f4f4f4; }
div.table { overflow-x: auto; margin: .75rem 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #c4c4c4; padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: #eef0f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
a { color: #0b5cad; }
footer { margin-top: 2rem; border-top: 1px solid #c4c4c4; padding-top: .5rem;
  font-size: .85rem; color: #444; }
footer p { max-width: 110ch; }
@media print {
  body { padding: 0; font-size: 10pt; }
  section.contract { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""
    + _chart.CSS
)
