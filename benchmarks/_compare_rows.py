"""The comparison's verdicts: each tool's measured runs, the summary rows and the notes."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from typing import Any

from _contracts import RULES
from _outcomes import Agreement, Outcome
from _report import Row, Timings, ms
from _spawn import ProcessRun
from _tables import CachedTable

SMALL_ROWS, LARGE_ROWS = 1_000_000, 10_000_000  # the sizes the targets are set for
TARGET_SMALL_SECONDS = 1.0  # floe, full contract, at SMALL_ROWS
TARGET_RATIO = 3.0  # datacontract / floe wall time, full contract, at LARGE_ROWS
TARGET_RSS_MB = 600  # floe peak RSS at LARGE_ROWS, in MB of 10^6 bytes
FULL = ("freshness", "schema_drift", "quality")


@dataclass
class Tool:
    """The measured runs of one command on one table and what its last report concluded."""

    name: str
    argv: list[str]
    runs: list[ProcessRun] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    inner_s: list[dict[str, float]] = field(default_factory=list)  # times it reports itself
    checks: dict[str, str] = field(default_factory=dict)  # check (floe: its type) -> status
    broken: str | None = None  # why it could not check at all

    @property
    def timings(self) -> Timings:
        return Timings(tuple(r.wall for r in self.runs))

    @property
    def ran(self) -> list[str]:
        """The check types that ran (not skipped), in floe's order."""
        return [k for k, status in self.checks.items() if status != "skipped"]

    @property
    def full(self) -> bool:
        """Whether freshness, schema drift and quality all ran: the full contract."""
        return all(k in self.ran for k in FULL)

    def inner_medians(self) -> dict[str, float]:
        keys = dict.fromkeys(k for run in self.inner_s for k in run)
        return {k: statistics.median(run[k] for run in self.inner_s if k in run) for k in keys}

    @property
    def peak_mib(self) -> float:
        return max(r.max_rss_kib for r in self.runs) / 1024

    def brief(self) -> str:
        t = self.timings
        cpu = statistics.median(r.cpu for r in self.runs)
        processes = max(r.processes for r in self.runs)
        across = f" ({processes} processes, added up)" if processes > 1 else ""
        return (
            f"median {ms(t.median)}, min {ms(t.min)}, max {ms(t.max)} (n={len(self.runs)}); "
            f"CPU {ms(cpu)}; peak RSS {self.peak_mib:.0f} MiB{across}"
        )

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"command": self.argv, "could_not_run": self.broken}
        if self.checks:
            doc["checks"] = self.checks
        if self.runs:
            doc |= {
                **self.timings.as_dict(),
                "cpu_s": [r.cpu for r in self.runs],
                "max_rss_mib": [r.max_rss_kib / 1024 for r in self.runs],
                "processes": [r.processes for r in self.runs],
                "exit_codes": [r.exit_code for r in self.runs],
                "self_reported_s": self.inner_s,
            }
        doc["outcomes"] = {k: vars(o) for k, o in self.outcomes.items()}
        return doc


def shape(cached: CachedTable) -> str:
    """``1,000,000 rows, 10 files``."""
    return f"{cached.rows:,} rows, {cached.files} files"


def ratio(floe: Tool, dc: Tool) -> float | None:
    """datacontract's median wall time over floe's, once both have runs."""
    if not floe.runs or not dc.runs:
        return None
    return dc.timings.median / floe.timings.median


def summary_rows(
    cached: CachedTable, floe: Tool, dc: Tool, agreement: Agreement, failing: Agreement | None
) -> list[Row]:
    """floe's, datacontract's and the ratio's rows, then one row per outcome comparison."""
    rows = _timing_rows(cached, floe, dc)
    rows.append(_agreement_row(cached, agreement, dc))
    if failing is not None:
        row = _agreement_row(cached, failing, dc)
        rows.append(
            replace(
                row, configuration=f"{row.configuration}; every threshold set to fail (untimed)"
            )
        )
    return rows


def _timing_rows(cached: CachedTable, floe: Tool, dc: Tool) -> list[Row]:
    full = floe.full
    checks = " + ".join(floe.ran)
    if full:
        checks = checks.replace("quality", f"quality ({len(RULES)} rules)")
    else:
        missing = " and ".join(k for k in FULL if k not in floe.ran)
        checks += f" ONLY, NOT the full contract: this floe ran no {missing} check"
    where = shape(cached)
    if cached.rows == SMALL_ROWS:
        floe_target = f"full contract, median < {TARGET_SMALL_SECONDS:g} s"
        floe_met: bool | None = full and floe.timings.median < TARGET_SMALL_SECONDS
    elif cached.rows == LARGE_ROWS:
        floe_target = f"full contract, peak RSS < {TARGET_RSS_MB} MB"
        floe_met = full and floe.peak_mib * 1024 * 1024 / 1e6 < TARGET_RSS_MB
    else:
        floe_target, floe_met = "context", None
    floe_row = Row("compare: floe sla check", f"{where}; {checks}", floe.brief())
    rows = [replace(floe_row, target=floe_target, met=floe_met)]
    if dc.broken is not None:
        reason = f"COULD NOT RUN against this table: {dc.broken}"
        rows.append(Row("compare: datacontract test", where, reason, "", "must run", False))
        return rows
    dc_checks = f"{len(dc.checks)} checks; iceberg server, sql catalog type"
    rows.append(
        Row("compare: datacontract test", f"{where}; {dc_checks}", dc.brief(), target="context")
    )
    value = ratio(floe, dc)
    assert value is not None
    if cached.rows == LARGE_ROWS:
        ratio_target = f"full contract, >= {TARGET_RATIO:g}x"
        ratio_met: bool | None = full and value >= TARGET_RATIO
    else:
        ratio_target, ratio_met = "context", None
    figures = f"median {ms(dc.timings.median)} / {ms(floe.timings.median)}"
    ratio_row = Row("compare: datacontract / floe", where, figures, f"{value:.1f}x")
    rows.append(replace(ratio_row, target=ratio_target, met=ratio_met))
    return rows


def _agreement_row(cached: CachedTable, agreement: Agreement, dc: Tool) -> Row:
    if dc.broken is not None:
        return Row("compare: rule outcomes", shape(cached), "nothing to compare", "", "")
    return Row(
        "compare: rule outcomes",
        shape(cached),
        agreement.describe(),
        "",
        "identical where both check",
        agreement.ok,
    )


def notes(cached: CachedTable, floe: Tool, dc: Tool, agreement: Agreement) -> list[str]:
    """For the reader: own durations, figures behind the outcomes, what one tool alone checked."""
    where = shape(cached)
    lines: list[str] = []
    if dc.broken is not None:
        lines.append(f"{where}: datacontract test could not run against this table: {dc.broken}")
    if floe.runs:
        inner = ", ".join(f"{k} {ms(v)}" for k, v in floe.inner_medians().items())
        lines.append(
            f"{where}: floe's own check durations (median; they run concurrently): {inner}"
        )
    if dc.runs:
        inner = ms(dc.inner_medians()["test"])
        lines.append(f"{where}: datacontract's own run time (median, start to end): {inner}")
    if dc.broken is not None:
        return lines
    values = [
        f"{k} floe {floe.outcomes[k].shown()} / datacontract {dc.outcomes[k].shown()}"
        for k in agreement.agreed
        if floe.outcomes[k].shown() is not None and dc.outcomes[k].shown() is not None
    ]
    if values:
        lines.append(f"{where}: figures behind the outcomes: " + "; ".join(values))
    if agreement.values_differ:
        lines.append(f"{where}: figures that differ: {agreement.values_differ}")
    if agreement.only_floe:
        only = ", ".join(
            f"{k.removeprefix('floe:')} {floe.outcomes[k].status}" for k in agreement.only_floe
        )
        lines.append(f"{where}: checked by floe only: {only}")
    if agreement.only_datacontract:
        only = ", ".join(
            f"{k.removeprefix('datacontract:')} {dc.outcomes[k].status}"
            for k in agreement.only_datacontract
        )
        lines.append(f"{where}: checked by datacontract only: {only}")
    return lines
