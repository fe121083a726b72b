"""One contract's compliance-over-time chart: an inline SVG as wide as the page, no script.

The height is fixed in pixels and x is a percentage of the width, so markers stay round and
text keeps its size at any width; each line is drawn in a nested SVG whose viewBox stretches
with the width (``preserveAspectRatio="none"``, strokes that do not scale). Every window is
a slot of equal width with its point in the middle, so a single window sits in the centre.
Every point has a marker, a tooltip and, where the width has room, its value as a label:
each window's date and value labels carry the class of the narrowest page on which they fit
(``CSS`` shows them by media query), so labels thin out rather than overlap.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from html import escape

from floe_core._percent import percent
from floe_core.reporting.model import ReportRow

#: Line colour and dash per check type (Okabe-Ito colours; dashes tell them apart in print).
_STYLES = {
    "freshness": ("#0072B2", ""),
    "quality": ("#009E73", "7 3"),
    "availability": ("#D55E00", "2 3"),
    "schema_drift": ("#CC79A7", "9 3 2 3"),
    "deprecation": ("#56B4E9", "1 2"),
}
_EXTRA = [("#E69F00", "4 2"), ("#000000", "12 3")]  # check types of plugins, in turn
#: The chart's height, the y of 100% and of 0%, and the baseline of the date labels (px).
HEIGHT = 250
_TOP, _BOTTOM = 34, 206
_AXIS = _BOTTOM + 20
#: The nested line layer's viewBox width: x in it is a thousandth of the chart's width.
_LINES_WIDTH = 1000
#: Label levels: (page width in px from which a level applies, the chart's width there). The
#: chart is the page less its padding (``clamp(1rem, 3vw, 3rem)`` a side) and margins (4.5rem);
#: level 0 is for a page of 360 px, a phone.
LABEL_LEVELS = ((0, 256), (720, 604), (1400, 1244))
_DATE_WIDTH = 66  # px a date label takes, with a gap
_TEXT_HEIGHT = 10  # px a label rises above its baseline
_CHAR_WIDTH = 7.8  # px a character of a value label takes at most (bold 11 px DejaVu Sans)
_RADIUS = 4  # px: a marker's
#: Up to this many windows a slot (at 720 px) has room to set apart markers that coincide.
_DODGE_WINDOWS = 12
_SHARED = "#333333"  # the colour of a value label that several lines share
_STACK = 3  # places a label may move farther above or below its point, a line each
_MARKER = 9  # px: markers closer than this over one window are set this far apart


@dataclass(frozen=True)
class _Point:
    """One window's compliance on one line, and how far its marker moves aside (px)."""

    series: int
    index: int  # of the window
    start: date
    pct: float
    colour: str
    dx: float = 0.0

    @property
    def y(self) -> float:
        return _y(self.pct)

    @property
    def text(self) -> str:
        return percent(self.pct)


def chart(name: str, rows: Sequence[ReportRow], spans: Sequence[date], window: str) -> str:
    """A ``<figure>``: the chart of ``rows`` over the windows starting at ``spans``, a legend."""
    label = f"Compliance % per {window} window of {name}, one line per check type"
    levels = label_levels(len(spans))
    lines = _points(rows, spans)
    out = [
        f'<svg class="chart" width="100%" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}; gaps are windows with no measured checks</title>",
        _grid(),
        _dates(spans, levels),
        *(
            _series(row, n, points, len(spans))
            for n, (row, points) in enumerate(zip(rows, lines, strict=True))
        ),
        _values([p for points in lines for p in points], levels),
        "</svg>",
    ]
    legend = "".join(
        _legend_item(row.check_type, n, bool(points))
        for n, (row, points) in enumerate(zip(rows, lines, strict=True))
    )
    return (
        '<figure class="chart">\n'
        + "\n".join(out)
        + f'\n<figcaption><ul class="legend">{legend}</ul></figcaption>\n</figure>'
    )


def _style(check_type: str, n: int) -> tuple[str, str]:
    """The colour and dash pattern of the ``n``-th line, of ``check_type``."""
    return _STYLES.get(check_type) or _EXTRA[n % len(_EXTRA)]


def label_levels(count: int) -> list[int | None]:
    """Per window, the lowest level of ``LABEL_LEVELS`` that labels it; ``None``: none does.

    Each level labels every k-th window counted back from the last, k as small as its budget
    allows; a level's k is a multiple of the next one's, so a wider page adds labels between
    those of a narrower one and never beside them.
    """
    strides: list[int] = []
    finer = 1
    for _, width in reversed(LABEL_LEVELS):
        finer = math.ceil(math.ceil(count / (width // _DATE_WIDTH)) / finer) * finer
        strides.insert(0, finer)
    return [
        next((k for k, s in enumerate(strides) if (count - 1 - i) % s == 0), None)
        for i in range(count)
    ]


def _points(rows: Sequence[ReportRow], spans: Sequence[date]) -> list[list[_Point]]:
    """Each row's measured windows as points, markers that would hide each other set apart."""
    index_of = {start: i for i, start in enumerate(spans)}
    lines = [
        [
            _Point(
                n, index_of[w.start], w.start, w.totals.compliance_pct, _style(row.check_type, n)[0]
            )
            for w in row.windows
            if w.totals.compliance_pct is not None
        ]
        for n, row in enumerate(rows)
    ]
    by_window: dict[int, list[_Point]] = defaultdict(list)
    for point in (p for points in lines for p in points):
        by_window[point.index].append(point)
    dodge = len(spans) <= _DODGE_WINDOWS
    dx = {k: d for points in by_window.values() if dodge for k, d in _dodge(points).items()}
    return [[replace(p, dx=dx.get((p.series, p.index), 0.0)) for p in points] for points in lines]


def _dodge(points: Sequence[_Point]) -> dict[tuple[int, int], float]:
    """Sideways moves (px) that spread the markers of one window that nearly coincide."""
    moves: dict[tuple[int, int], float] = {}
    cluster: list[_Point] = []
    for point in [*sorted(points, key=lambda p: p.y), None]:
        if point is not None and cluster and point.y - cluster[-1].y < _MARKER:
            cluster.append(point)
            continue
        for j, member in enumerate(cluster):
            if len(cluster) > 1:
                moves[member.series, member.index] = (j - (len(cluster) - 1) / 2) * _MARKER
        cluster = [point] if point is not None else []
    return moves


def _x(index: int, count: int) -> float:
    """The middle of window ``index``'s slot, in percent of the width."""
    return 100 * (index + 0.5) / count


def _y(pct: float) -> float:
    return _BOTTOM - (_BOTTOM - _TOP) * pct / 100


def _grid() -> str:
    out = ['<g class="grid">']
    for level in (0, 25, 50, 75, 100):
        dash = "" if level in (0, 100) else ' stroke-dasharray="3 3"'
        out.append(
            f'<line x1="0" y1="{_y(level):.1f}" x2="100%" y2="{_y(level):.1f}" '
            f'stroke="#c4c4c4"{dash}/>'
            f'<text x="-8" y="{_y(level) + 4:.1f}" text-anchor="end">{level}%</text>'
        )
    out.append("</g>")
    return "\n".join(out)


def _dates(spans: Sequence[date], levels: Sequence[int | None]) -> str:
    out = ['<g class="dates">']
    for i, start in enumerate(spans):
        if levels[i] is not None:
            out.append(
                f'<text class="lv{levels[i]}" x="{_x(i, len(spans)):.3f}%" y="{_AXIS}" '
                f'text-anchor="middle">{start.isoformat()}</text>'
            )
    out.append("</g>")
    return "\n".join(out)


def _series(row: ReportRow, n: int, points: Sequence[_Point], count: int) -> str:
    """A check type's line, broken where a window measured nothing, and a marker per point."""
    colour, dashes = _style(row.check_type, n)
    kind = escape(row.check_type)
    moves, markers, after = [], [], -2  # after: the index of the previous point
    for point in points:
        joined, after = after == point.index - 1, point.index
        x = _x(point.index, count)
        moves.append(f"{'L' if joined else 'M'}{x * _LINES_WIDTH / 100:.1f},{point.y:.1f}")
        aside = f' transform="translate({point.dx:g} 0)"' if point.dx else ""
        markers.append(
            f'<circle cx="{x:.3f}%" cy="{point.y:.1f}" r="{_RADIUS}" fill="{colour}"{aside}>'
            f"<title>{kind} {point.start.isoformat()}: {point.text}</title></circle>"
        )
    dash = f' stroke-dasharray="{dashes}"' if dashes else ""
    return "\n".join(
        [
            f'<g class="series" data-check-type="{kind}">',
            f'<svg viewBox="0 0 {_LINES_WIDTH} {HEIGHT}" preserveAspectRatio="none" '
            f'width="100%" height="{HEIGHT}">'
            f'<path d="{" ".join(moves)}" fill="none" stroke="{colour}" stroke-width="2"{dash} '
            'vector-effect="non-scaling-stroke"/></svg>',
            *markers,
            "</g>",
        ]
    )


@dataclass(frozen=True)
class _Box:
    """A rectangle in px: x from the middle of a window's slot, y from the chart's top."""

    left: float
    top: float
    right: float
    bottom: float

    def clear_of(self, others: Sequence[_Box]) -> bool:
        return all(
            self.right <= o.left
            or self.left >= o.right
            or self.bottom <= o.top
            or self.top >= o.bottom
            for o in others
        )


@dataclass(frozen=True)
class _Place:
    """Where a value label goes: shifted ``dx`` px from its window's middle, anchored so; shown
    from label level ``level`` on (where the slots are wide enough for it)."""

    dx: float
    baseline: float
    anchor: str
    box: _Box
    level: int = 0


def _values(points: Sequence[_Point], levels: Sequence[int | None]) -> str:
    """The value labels, over every line: one per value over a window (shared by the lines
    that have it), in the first free place of ``_places``; one with none free is left to its
    marker's tooltip."""
    count = len(levels)
    markers: dict[int, list[_Box]] = defaultdict(list)
    for p in points:
        r = _RADIUS + 1
        markers[p.index].append(_Box(p.dx - r, p.y - r, p.dx + r, p.y + r))
    out = ['<g class="values">']
    for index, labels in sorted(_by_window(points, levels).items()):
        taken = list(markers[index])
        for point in sorted(labels, key=lambda p: p.y):  # the highest first
            place = next((q for q in _places(point, count) if q.box.clear_of(taken)), None)
            if place is None:
                continue
            taken.append(place.box)
            shift = f' dx="{place.dx:g}"' if place.dx else ""
            level = max(place.level, levels[index] or 0)
            out.append(
                f'<text class="value lv{level}" x="{_x(index, count):.3f}%"{shift} '
                f'y="{place.baseline:.1f}" text-anchor="{place.anchor}" fill="{point.colour}">'
                f"{point.text}</text>"
            )
    out.append("</g>")
    return "\n".join(out)


def _places(point: _Point, count: int) -> list[_Place]:
    """Above the point, below it, and where the slots are wide enough for a label beside a
    point facing one beside the next, right and left of it; then, with few windows (where
    every value should show), farther above and below; never over the date labels."""
    width, rise = _CHAR_WIDTH * len(point.text), _TEXT_HEIGHT
    above, below = point.y - _RADIUS - 4, point.y + _RADIUS + 4 + rise
    places = [
        _Place(0, y, "middle", _Box(-width / 2, y - rise, width / 2, y + 2)) for y in (above, below)
    ]
    farther = [
        _Place(0, y, "middle", _Box(-width / 2, y - rise, width / 2, y + 2))
        for step in range(1, _STACK + 1 if count <= _DODGE_WINDOWS else 1)
        for y in (above - step * (rise + 2), below + step * (rise + 2))
    ]
    side = _RADIUS + 3
    slot = 2 * (abs(point.dx) + side + width) + 4
    level = next((k for k, (_, w) in enumerate(LABEL_LEVELS) if w / count >= slot), None)
    if level is not None:
        y, right, left = point.y + 4, point.dx + side, point.dx - side
        places += [
            _Place(right, y, "start", _Box(right, y - rise, right + width, y + 2), level),
            _Place(left, y, "end", _Box(left - width, y - rise, left, y + 2), level),
        ]
    return [q for q in places + farther if q.box.top >= 0 and q.box.bottom < _AXIS - rise]


def _by_window(points: Sequence[_Point], levels: Sequence[int | None]) -> dict[int, list[_Point]]:
    """The labelled windows' points, one per value shown (in a neutral colour if shared)."""
    by_window: dict[int, dict[str, _Point]] = defaultdict(dict)
    for point in points:
        if levels[point.index] is None:
            continue
        labels = by_window[point.index]
        same = labels.get(point.text)
        if same is None:
            labels[point.text] = point
        elif same.colour != point.colour:
            top = min(same.pct, point.pct, key=_y)
            labels[point.text] = replace(same, pct=top, colour=_SHARED, dx=0.0)
    return {index: list(labels.values()) for index, labels in by_window.items()}


def _legend_item(check_type: str, n: int, drawn: bool) -> str:
    colour, dashes = _style(check_type, n)
    dash = f' stroke-dasharray="{dashes}"' if dashes else ""
    note = "" if drawn else ' <span class="note">(nothing measured)</span>'
    return (
        '<li><svg class="swatch" width="28" height="10" aria-hidden="true">'
        f'<line x1="0" y1="5" x2="28" y2="5" stroke="{colour}" stroke-width="2"{dash}/>'
        f'<circle cx="14" cy="5" r="3.5" fill="{colour}"/></svg>{escape(check_type)}{note}</li>'
    )


#: The chart's style sheet: sizes, label halos, and which label levels each width shows.
CSS = (
    f"""
figure.chart {{ margin: 1rem 0 .5rem; }}
svg.chart {{ display: block; width: calc(100% - 4.5rem); height: {HEIGHT}px;
  margin: 0 1.5rem 0 3rem; overflow: visible; }}
svg.chart text {{ font: 11px system-ui, Arial, sans-serif; }}
svg.chart .grid text, svg.chart .dates text {{ fill: #333; }}
svg.chart text.value {{ font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px;
  stroke-linejoin: round; }}
svg.chart circle {{ stroke: #fff; stroke-width: 1.5; }}
ul.legend {{ display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none;
  margin: .25rem 0 0 3rem; padding: 0; font-size: .9rem; }}
ul.legend svg {{ vertical-align: middle; margin-right: .35rem; }}
ul.legend .note {{ color: #595959; }}
"""
    + "".join(f"svg.chart .lv{k} {{ display: none; }}\n" for k in range(1, len(LABEL_LEVELS)))
    + "".join(
        f"@media (min-width: {width}px) {{ svg.chart .lv{k} {{ display: inline; }} }}\n"
        for k, (width, _) in enumerate(LABEL_LEVELS)
        if k
    )
)
