"""The HTML report's charts: as wide as the page, every point marked, labels that never overlap.

The charts are laid out for any width by the browser, so the geometry is checked at the
narrowest plot width of each label level (the page's CSS: body padding, chart margins): a
label shown at a level must fit beside every other label shown there.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise

import pytest

from floe_core.reporting._chart import HEIGHT, LABEL_LEVELS, label_levels
from floe_core.reporting.html import render_html
from floe_core.reporting.model import (
    Coverage,
    ReportRow,
    SLAReport,
    Totals,
    WindowKind,
    WindowReport,
)

MONDAY = date(2024, 1, 1)
NOW = datetime(2025, 1, 1, tzinfo=UTC)
#: The chart's width at the narrowest page of each level: 360 px (a phone), 720 px, 1,400 px.
PLOT_WIDTHS = (256.0, 604.8, 1244.0)
DATE_WIDTH = 64.0  # "2024-06-01" at 11 px
CHAR_WIDTH = 7.8  # a character of a bold 11 px value label, at most
EVIL = "<img src=x onerror=alert(1)>"


def report(series: Mapping[str, Sequence[float | None]], kind: WindowKind = "daily") -> SLAReport:
    """One contract whose check types had these compliance values, window by window."""
    step = 7 if kind == "weekly" else 1
    count = len(next(iter(series.values())))
    starts = [MONDAY + timedelta(days=step * i) for i in range(count)]
    rows = []
    for check_type, values in series.items():
        windows = [
            WindowReport(
                start, start + timedelta(days=step - 1), _totals(pct), Coverage(1000, 1000)
            )
            for start, pct in zip(starts, values, strict=True)
            if pct is not None
        ]
        totals = Totals.of(w.totals for w in windows)
        rows.append(ReportRow("orders", check_type, totals, Coverage(1000, 1000), windows))
    until = starts[-1] + timedelta(days=step - 1)
    return SLAReport(since=starts[0], until=until, window=kind, generated_at=NOW, rows=rows)


def _totals(pct: float) -> Totals:
    passed = round(pct * 100)
    return Totals(10_000, passed, 10_000 - passed, 0, 1.0, None, None, None, None, 0)


def figure(page: str) -> ET.Element:
    [found] = re.findall(r'<figure class="chart">.*?</figure>', page, re.DOTALL)
    return ET.fromstring(found)


def chart(page: str) -> ET.Element:
    svg = figure(page).find("svg")
    assert svg is not None
    return svg


def group(svg: ET.Element, name: str) -> ET.Element:
    [found] = [g for g in svg.iter("g") if g.get("class") == name]
    return found


def _window(text: ET.Element, count: int) -> int:
    """The window a label is over."""
    return round(float(text.attrib["x"].rstrip("%")) * count / 100 - 0.5)


def level(text: ET.Element) -> int:
    return int(text.attrib["class"].split("lv")[-1])


def shown(texts: Sequence[ET.Element], at: int) -> list[ET.Element]:
    return [t for t in texts if level(t) <= at]


def x_px(element: ET.Element, width: float, attribute: str = "x") -> float:
    """Where ``element`` is, in px across a plot ``width`` wide."""
    return float(element.attrib[attribute].rstrip("%")) * width / 100 + float(
        element.get("dx", "0")
    )


def box(text: ET.Element, width: float) -> tuple[float, float, float, float]:
    """A value label's left, top, right, bottom in px."""
    x, y = x_px(text, width), float(text.attrib["y"])
    wide = CHAR_WIDTH * len(text.text or "")
    left = {"start": x, "end": x - wide}.get(text.attrib["text-anchor"], x - wide / 2)
    return left, y - 10, left + wide, y + 2


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_labels_apart(svg: ET.Element) -> None:
    """At the narrowest width of every level, its value labels touch neither each other nor
    the dates, and stay inside the chart."""
    dates = list(group(svg, "dates").iter("text"))
    values = list(group(svg, "values").iter("text"))
    for at, width in enumerate(PLOT_WIDTHS):
        boxes = [box(t, width) for t in shown(values, at)]
        assert not [pair for pair in combinations(boxes, 2) if overlap(*pair)]
        assert all(bottom < float(dates[0].attrib["y"]) - 10 for *_, bottom in boxes)
        assert all(top >= 0 for _, top, _, _ in boxes)
        # at most into the chart's margins (3rem left, 1.5rem right)
        assert all(left >= -24 and right <= width + 24 for left, _, right, _ in boxes)


def test_the_chart_is_as_wide_as_the_page_and_its_lines_stretch_with_it() -> None:
    page = render_html(report({"freshness": [90.0, 95.0, 100.0]}))
    svg = chart(page)
    assert (svg.get("width"), svg.get("height")) == ("100%", str(HEIGHT))
    [lines] = [s for s in svg.iter("svg") if s is not svg]
    assert lines.get("viewBox") == f"0 0 1000 {HEIGHT}"
    assert (lines.get("preserveAspectRatio"), lines.get("width")) == ("none", "100%")
    [path] = lines.iter("path")
    assert path.get("vector-effect") == "non-scaling-stroke"  # strokes keep their width
    assert all(c.attrib["cx"].endswith("%") for c in svg.iter("circle"))  # markers stay round
    [body] = re.findall(r"^body \{[^}]*\}", page, re.MULTILINE)
    assert "max-width" not in body  # no fixed column: the page uses the window's width
    assert "<script" not in page


def test_one_window_sits_in_the_middle_with_a_marker_and_a_label_per_value() -> None:
    # A month asked for, history on its last day only: the chart starts at that day.
    one = report({"freshness": [None] * 29 + [75.0], "quality": [None] * 29 + [100.0]})
    svg = chart(render_html(one))
    circles = list(svg.iter("circle"))
    assert [c.attrib["cx"] for c in circles] == ["50.000%", "50.000%"]
    assert [c.findtext("title") for c in circles] == [
        "freshness 2024-01-30: 75.0%",
        "quality 2024-01-30: 100.0%",
    ]
    assert [t.text for t in group(svg, "dates").iter("text")] == ["2024-01-30"]
    values = list(group(svg, "values").iter("text"))
    assert sorted(t.text or "" for t in values) == ["100.0%", "75.0%"]
    assert all(level(t) == 0 for t in values)  # shown at every width


def test_points_that_coincide_are_set_apart_and_share_one_label() -> None:
    svg = chart(render_html(report({"freshness": [100.0], "quality": [100.0], "schema": [100.0]})))
    moves = [c.get("transform") for c in svg.iter("circle")]
    assert moves == ["translate(-9 0)", None, "translate(9 0)"]
    [label] = group(svg, "values").iter("text")
    assert (label.text, label.get("fill")) == ("100.0%", "#333333")


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_few_windows_label_every_point(count: int) -> None:
    values = {
        "freshness": [100.0 - 3 * i for i in range(count)],
        "availability": [96.0 - 2 * i for i in range(count)],  # close to freshness
        "quality": [40.0 + 5 * i for i in range(count)],
    }
    svg = chart(render_html(report(values)))
    labels = shown(list(group(svg, "values").iter("text")), at=len(LABEL_LEVELS) - 1)
    expected = {(i, f"{s[i]:.1f}%") for s in values.values() for i in range(count)}  # equal: one
    assert sorted((_window(t, count), t.text) for t in labels) == sorted(expected)
    assert_labels_apart(svg)


@pytest.mark.parametrize(("count", "kind"), [(30, "daily"), (52, "weekly"), (90, "daily")])
def test_many_windows_thin_their_labels_and_none_overlap(count: int, kind: WindowKind) -> None:
    wave = [50 + 50 * math.sin(i / 3) for i in range(count)]
    values: dict[str, list[float | None]] = {
        "freshness": [round(v, 1) for v in wave],
        "availability": [100.0 if i % 7 else 99.5 for i in range(count)],
        "quality": [None if i % 11 == 5 else round(100 - v / 2, 1) for i, v in enumerate(wave)],
        "schema_drift": [100.0] * count,
    }
    svg = chart(render_html(report(values, kind)))
    assert len(list(svg.iter("circle"))) == sum(
        v is not None for series in values.values() for v in series
    )  # a marker on every point, labelled or not
    dates = list(group(svg, "dates").iter("text"))
    assert [w for _, w in LABEL_LEVELS] == [int(w) for w in PLOT_WIDTHS]
    for at, width in enumerate(PLOT_WIDTHS):
        xs = sorted(x_px(t, width) for t in shown(dates, at))
        assert 1 <= len(xs) <= width / DATE_WIDTH
        assert all(b - a >= DATE_WIDTH for a, b in pairwise(xs))
    assert_labels_apart(svg)
    assert (
        dates[-1].text
        == (MONDAY + timedelta(days=(7 if kind == "weekly" else 1) * (count - 1))).isoformat()
    )


def test_label_levels_add_labels_between_those_of_narrower_pages() -> None:
    for count in range(1, 120):
        levels = label_levels(count)
        assert levels[-1] == 0  # the latest window is always labelled
        for at, width in enumerate(PLOT_WIDTHS):
            labelled = [i for i, lv in enumerate(levels) if lv is not None and lv <= at]
            assert len(labelled) <= width / DATE_WIDTH
            gaps = {b - a for a, b in pairwise(labelled)}
            assert len(gaps) <= 1  # evenly spaced
        if count <= 3:  # what a phone fits
            assert set(levels) == {0}


def test_a_check_type_with_nothing_measured_is_in_the_legend_and_escaped() -> None:
    page = render_html(report({"freshness": [99.0, 98.0], EVIL: [None, None]}))
    legend = figure(page).find("figcaption")
    assert legend is not None
    items = ["".join(li.itertext()) for li in legend.iter("li")]
    assert items == ["freshness", f"{EVIL} (nothing measured)"]
    assert EVIL not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_percentages_in_the_page_round_as_everywhere() -> None:
    page = render_html(report({"freshness": [99.96, 0.04]}))
    titles = [c.findtext("title") for c in chart(page).iter("circle")]
    assert titles == ["freshness 2024-01-01: 99.9%", "freshness 2024-01-02: 0.1%"]
    assert '<td class="num">50.0</td>' in page  # compliance over both: 10,000 of 20,000
