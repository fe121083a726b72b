"""Timing helpers, the result rows every benchmark returns, and the final table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Timings:
    """Wall times of repeated runs of one thing, in seconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": len(self.samples),
            "median_s": self.median,
            "min_s": self.min,
            "max_s": self.max,
            "samples_s": list(self.samples),
        }

    def brief(self) -> str:
        """``median 12.3 ms, min 11.9 ms (n=25)``."""
        return f"median {ms(self.median)}, min {ms(self.min)} (n={len(self.samples)})"


def timed(fn: Callable[[], T], repeat: int) -> tuple[Timings, list[T]]:
    """Run ``fn`` ``repeat`` times; the wall time of each run and what each returned."""
    samples: list[float] = []
    values: list[T] = []
    for _ in range(repeat):
        started = time.monotonic()
        values.append(fn())
        samples.append(time.monotonic() - started)
    return Timings(tuple(samples)), values


def interleaved(
    paths: dict[str, tuple[Callable[[], T], int]], rounds: int
) -> dict[str, tuple[Timings, list[T]]]:
    """Time several ways of doing one thing in turns: each round runs every path its count.

    On a shared machine whose speed drifts from one minute to the next, timing one path
    after another would charge the drift to whichever ran in the slow minutes; in turns,
    every path samples the same minutes, so their ratio holds even when the times move.
    """
    samples: dict[str, list[float]] = {name: [] for name in paths}
    values: dict[str, list[T]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, (fn, count) in paths.items():
            for _ in range(count):
                started = time.monotonic()
                values[name].append(fn())
                samples[name].append(time.monotonic() - started)
    return {name: (Timings(tuple(samples[name])), values[name]) for name in paths}


def ms(seconds: float) -> str:
    """A duration for people: ``850 µs``, ``12.3 ms``, ``1.42 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass(frozen=True)
class Row:
    """One line of the summary table; ``met`` is None for figures given only for context."""

    benchmark: str
    configuration: str
    figures: str
    ratio: str = ""
    target: str = ""
    met: bool | None = None


@dataclass
class Section:
    """What one benchmark measured: summary rows, JSON figures and notes for the reader.

    ``errors`` are findings that make the run fail whatever the targets, such as two tools
    reaching different conclusions on the same data.
    """

    name: str
    rows: list[Row] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def render_table(rows: list[Row]) -> str:
    """A plain-text table that stays readable in a terminal and in CI logs."""
    header = ("benchmark", "configuration", "figures", "ratio", "target", "met")
    cells = [header] + [
        (
            r.benchmark,
            r.configuration,
            r.figures,
            r.ratio,
            r.target,
            "" if r.met is None else ("MET" if r.met else "NOT MET"),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    rule = "-+-".join("-" * w for w in widths)

    def line(values: tuple[str, ...]) -> str:
        return " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])
