"""``render_html``: a self-contained, escaped page whose charts and tables say the report."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from html.parser import HTMLParser

from floe_core._percent import percent
from floe_core.reporting.build import build_report
from floe_core.reporting.html import render_html
from floe_core.reporting.model import Coverage, ReportRow, SLAReport, Totals, Trend, WindowReport
from floe_core.state.store import StateStore

from ._synthetic import History, Run
from .conftest import StateDB

D1, D2, D3, D4 = (date(2024, 6, day) for day in (1, 2, 3, 4))
NOW = datetime(2024, 6, 5, 9, 30, tzinfo=UTC)
EVIL = "<script>alert('x')</script>"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


class TagBalance(HTMLParser):
    """Every element opened is closed in order; counts start tags by name."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.started: dict[str, int] = {}
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.started[tag] = self.started.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.started[tag] = self.started.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parsed(page: str) -> TagBalance:
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    return parser


def charts(page: str) -> list[ET.Element]:
    """Each contract's chart: the outer ``<svg>`` of its ``<figure>``."""
    figures = re.findall(r'<figure class="chart">.*?</figure>', page, re.DOTALL)
    svgs = [ET.fromstring(figure).find("svg") for figure in figures]
    return [svg for svg in svgs if svg is not None]


def series(svg: ET.Element) -> dict[str, ET.Element]:
    return {g.attrib["data-check-type"]: g for g in svg.iter("g") if g.get("class") == "series"}


def segments(group: ET.Element) -> list[str]:
    """The path's runs of connected points, one per ``M``."""
    [path] = group.iter("path")
    return re.findall(r"M[^M]*", path.attrib["d"])


def window(
    day: date,
    passed: int,
    failed: int,
    errors: int = 0,
    *,
    scores: tuple[float, float, float] | None = None,  # min, max, avg
    uptime: float | None = None,
) -> WindowReport:
    low, high, avg = scores or (None, None, None)
    totals = Totals(passed + failed + errors, passed, failed, errors, 1.0, low, high, avg, uptime)
    return WindowReport(day, day, totals, Coverage(totals.total_checks, 96))


def row(
    contract: str,
    kind: str,
    windows: list[WindowReport],
    severities: dict[str, int] | None = None,
    trend: Trend | None = None,
    quality_trend: Trend | None = None,
) -> ReportRow:
    totals = Totals.of(w.totals for w in windows)
    coverage = Coverage(totals.total_checks, 96 * 4)
    return ReportRow(
        contract, kind, totals, coverage, windows, severities or {}, trend, quality_trend
    )


def known_report(pattern: str | None = None) -> SLAReport:
    orders = [
        # freshness: measured on D1 and D3; D2 ran only errors; nothing on D4.
        row(
            "orders",
            "freshness",
            [window(D1, 90, 6), window(D2, 0, 0, 4), window(D3, 48, 46, 2)],
            {"critical": 2, "error": 50},
            trend="degrading",
        ),
        # quality on D3 and D4: one connected line.
        row(
            "orders",
            "quality",
            [window(D3, 3, 1, scores=(70.0, 100.0, 85.0)), window(D4, 2, 2, scores=(60, 60, 60))],
            {"warning": 3},
            quality_trend="degrading",
        ),
        row("orders", "availability", [window(D2, 276, 12, uptime=100 * 276 / 288)]),
    ]
    evil = [row(EVIL, "freshness", [window(D1, 1, 1)])]
    return SLAReport(
        since=D1,
        until=D4,
        window="daily",
        generated_at=NOW,
        rows=orders + evil,
        contracts_pattern=pattern,
        aggregates_through=D2,
    )


def test_page_is_one_balanced_html5_document_with_a_chart_per_contract() -> None:
    page = render_html(known_report())
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in page
    assert "<title>SLA report 2024-06-01 to 2024-06-04</title>" in page
    tags = parsed(page)
    assert tags.started["figure"] == 2
    assert tags.started["section"] == 3  # the summary and two contracts
    for svg in charts(page):
        assert svg.get("role") == "img"
        assert svg.get("aria-label", "").startswith("Compliance % per daily window of ")
        assert svg.find("title") is not None


def test_chart_draws_a_line_per_check_type_with_gaps_where_nothing_was_measured() -> None:
    orders, evil = charts(render_html(known_report()))
    lines = series(orders)
    assert list(lines) == ["freshness", "quality", "availability"]
    # freshness: points on D1 and D3, the error-only D2 and the missing D4 are gaps.
    assert len(list(lines["freshness"].iter("circle"))) == 2
    assert len(segments(lines["freshness"])) == 2
    assert all("L" not in s for s in segments(lines["freshness"]))
    # quality: D3 and D4 joined by one line.
    [quality] = segments(lines["quality"])
    assert quality.count("L") == 1
    assert len(list(lines["quality"].iter("circle"))) == 2
    assert len(list(lines["availability"].iter("circle"))) == 1
    assert len(series(evil)) == 1
    # x axis: every day of the period, y at 0% (bottom) and 100% (top) for the extremes.
    labels = [t.text for t in orders.iter("text")]
    assert [d.isoformat() for d in (D1, D2, D3, D4)] == [
        label for label in labels if label and label.startswith("2024-")
    ]
    assert {"0%", "50%", "100%"} <= set(labels)
    titles = [c.findtext("title") for c in lines["freshness"].iter("circle")]
    assert titles == ["freshness 2024-06-01: 93.8%", "freshness 2024-06-03: 51.1%"]


def test_summary_and_row_tables_show_the_numbers() -> None:
    report = known_report()
    page = render_html(report)
    [orders, _] = report.summaries()
    summary = page[page.index('<section class="summary">') : page.index("</section>")]
    assert f'<td class="num">{percent(orders.totals.compliance_pct, sign="")}</td>' in summary
    assert '<td class="num">72.6</td>' in summary  # freshness: 138 / 190
    assert '<td class="num">95.8</td>' in summary  # uptime: 276 / 288
    assert '<td class="num">72.5</td>' in summary  # quality: (85 x 4 + 60 x 4) / 8
    assert "freshness: critical 2, error 50; quality: warning 3" in summary
    assert '<td class="num">8 / 384</td>' in page  # quality checks executed / expected
    assert '<td class="num">138 / 52 / 6</td>' in page  # freshness passed / failed / errored
    assert "<td>0 (critical 2, error 50)</td>" in page
    assert '<td class="num">72.5 (60.0\u2013100.0)</td>' in page
    assert "\u2193 degrading" in page
    assert '<td class="num">\u2013</td>' in page  # no uptime for freshness


def test_header_says_period_window_source_generation_and_pattern() -> None:
    page = render_html(known_report("ord*"))
    assert "<dd>2024-06-01 \u2013 2024-06-04</dd>" in page
    assert "<dd>daily</dd>" in page
    assert "<dd>2024-06-05 09:30:00 UTC</dd>" in page
    assert "<dd>ord*</dd>" in page
    assert "<dd>daily aggregates through 2024-06-02, raw check results after</dd>" in page
    assert "2 contracts for contracts matching &#x27;ord*&#x27;, 2024-06-01 to 2024-06-04" in page


def test_nothing_is_fetched_and_data_cannot_inject_markup() -> None:
    page = render_html(known_report(EVIL))
    lowered = page.lower()
    for needle in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert needle not in lowered
    assert parsed(page).started.get("script") is None
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert EVIL not in page


def test_empty_report_says_so_and_draws_nothing() -> None:
    report = SLAReport(since=D1, until=D4, window="weekly", generated_at=NOW, rows=[])
    page = render_html(report)
    parsed(page)
    assert "No check history from 2024-06-01 to 2024-06-04 in the state database." in page
    assert "<svg" not in page
    assert "<table" not in page
    assert "<dd>raw check results</dd>" in page


def test_report_from_the_state_database_renders(state_db: StateDB) -> None:
    history = History().add(
        *(Run("orders", "freshness", datetime(2024, 6, 1, h, tzinfo=UTC)) for h in (0, 6, 12)),
        Run(
            "orders",
            "freshness",
            datetime(2024, 6, 1, 18, tzinfo=UTC),
            "fail",
            violations=("error",),
        ),
        *(Run("orders", "freshness", datetime(2024, 6, 3, h, tzinfo=UTC)) for h in (0, 12)),
        Run("orders", "quality", datetime(2024, 6, 1, 1, tzinfo=UTC), quality_score=90.0),
        Run(EVIL, "freshness", datetime(2024, 6, 2, 1, tzinfo=UTC)),
    )

    async def body() -> SLAReport:
        async with state_db.store() as store:
            await history.write(store)
            return await report_of(store)

    async def report_of(store: StateStore) -> SLAReport:
        return await build_report(store, since=D1, until=D3, window="daily", now=NOW)

    page = render_html(asyncio.run(body()))
    parsed(page)
    evil, orders = charts(page)  # build_report sorts by contract name
    lines = series(orders)
    assert list(lines) == ["freshness", "quality"]
    assert len(segments(lines["freshness"])) == 2  # nothing on June 2
    assert [c.findtext("title") for c in lines["freshness"].iter("circle")] == [
        "freshness 2024-06-01: 75.0%",
        "freshness 2024-06-03: 100.0%",
    ]
    assert len(list(series(evil)["freshness"].iter("circle"))) == 1
    assert "<td>1 (error 1)</td>" in page
    assert '<td class="num">90.0 (90.0\u201390.0)</td>' in page
    assert EVIL not in page
