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
# Against Soda (its fastest variant): floe's median over Soda's, at most this.
TARGET_SODA_SMALL = 0.8  # floe (persisting its results), at SMALL_ROWS
TARGET_SODA_SMALL_NO_PERSIST = 0.7  # floe --no-persist, at SMALL_ROWS
TARGET_SODA_LARGE = 0.5  # floe (persisting), at LARGE_ROWS
TARGET_SODA_RSS_MB = 250  # floe's processes together, at LARGE_ROWS, MB of 10^6 bytes
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
    label: str = ""  # how the table names it, when not by ``name``

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

    @property
    def peak_mb(self) -> float:
        """The peak RSS in MB of 10^6 bytes, as the targets are set."""
        return self.peak_mib * 1024 * 1024 / 1e6

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


@dataclass
class Peers:
    """The tools of one table: floe both ways, datacontract-cli, Soda's variants."""

    floe: Tool
    floe_no_persist: Tool
    dc: Tool
    soda: dict[str, Tool]  # variant -> its runs
    agreement: Agreement
    failing: Agreement | None
    soda_agreements: dict[str, Agreement]  # variant -> agreement with floe
    soda_failing: dict[str, Agreement]  # variant -> the same, every threshold set to fail

    def fastest_soda(self) -> Tool | None:
        """Soda's variant with the lowest median wall time, among those that ran."""
        ran = [t for t in self.soda.values() if t.broken is None and t.runs]
        return min(ran, key=lambda t: t.timings.median, default=None)


def summary_rows(cached: CachedTable, peers: Peers) -> list[Row]:
    """floe's, datacontract's, Soda's and the ratios' rows, then the outcome comparisons."""
    floe, dc = peers.floe, peers.dc
    rows = _timing_rows(cached, floe, dc)
    rows.insert(1, _no_persist_row(cached, peers.floe_no_persist))
    rows.extend(_soda_rows(cached, peers))
    rows.append(_agreement_row(cached, peers.agreement, dc))
    if peers.failing is not None:
        rows.append(_failing(_agreement_row(cached, peers.failing, dc)))
    rows.append(_soda_agreement_row(cached, peers.soda_agreements, peers.soda))
    if peers.soda_failing:
        rows.append(_failing(_soda_agreement_row(cached, peers.soda_failing, peers.soda)))
    return rows


def _failing(row: Row) -> Row:
    return replace(row, configuration=f"{row.configuration}; every threshold set to fail (untimed)")


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
        floe_met = full and floe.peak_mb < TARGET_RSS_MB
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
    figures = (
        f"median {ms(dc.timings.median)} / {ms(floe.timings.median)} "
        f"(floe / datacontract {1 / value:.2f}x)"
    )
    ratio_row = Row("compare: datacontract / floe", where, figures, f"{value:.1f}x")
    rows.append(replace(ratio_row, target=ratio_target, met=ratio_met))
    return rows


def _no_persist_row(cached: CachedTable, floe: Tool) -> Row:
    return Row(
        "compare: floe sla check --no-persist",
        f"{shape(cached)}; the same, without the state database",
        floe.brief(),
        target="context",
    )


def _soda_rows(cached: CachedTable, peers: Peers) -> list[Row]:
    where = shape(cached)
    rows: list[Row] = []
    for variant, tool in peers.soda.items():
        name = f"compare: soda contract verify ({variant})"
        if tool.broken is not None:
            reason = f"COULD NOT RUN against this table: {tool.broken}"
            rows.append(Row(name, where, reason, "", "must run", False))
            continue
        config = f"{where}; {len(tool.checks)} checks; {tool.label}"
        rows.append(Row(name, config, tool.brief(), target="context"))
    fastest = peers.fastest_soda()
    if fastest is None:
        return rows
    full = peers.floe.full and peers.floe_no_persist.full and _soda_full(fastest)
    against = f"{where}; against Soda's fastest variant, {fastest.name.removeprefix('soda ')}"
    for floe, label in ((peers.floe, "floe"), (peers.floe_no_persist, "floe --no-persist")):
        value = floe.timings.median / fastest.timings.median
        target: float | None = None
        if cached.rows == SMALL_ROWS:
            target = TARGET_SODA_SMALL if floe is peers.floe else TARGET_SODA_SMALL_NO_PERSIST
        elif cached.rows == LARGE_ROWS and floe is peers.floe:
            target = TARGET_SODA_LARGE
        figures = f"median {ms(floe.timings.median)} / {ms(fastest.timings.median)}"
        row = Row(f"compare: {label} / Soda", against, figures, f"{value:.2f}x")
        if target is None:
            rows.append(replace(row, target="context"))
        else:
            met = full and value <= target
            rows.append(replace(row, target=f"full contracts, <= {target:g}x", met=met))
    if cached.rows == LARGE_ROWS:
        floe = peers.floe
        processes = max(r.processes for r in floe.runs)
        figures = (
            f"{floe.peak_mb:.0f} MB ({floe.peak_mib:.0f} MiB), {processes} processes added up; "
            f"--no-persist {peers.floe_no_persist.peak_mb:.0f} MB; "
            f"Soda {fastest.name.removeprefix('soda ')} {fastest.peak_mb:.0f} MB"
        )
        rows.append(
            Row(
                "compare: floe peak RSS, all its processes",
                f"{where}; floe sla check, full contract",
                figures,
                target=f"< {TARGET_SODA_RSS_MB} MB",
                met=peers.floe.full and floe.peak_mb < TARGET_SODA_RSS_MB,
            )
        )
    return rows


def _soda_full(tool: Tool) -> bool:
    """Whether every check of Soda's contract got an outcome (none left unevaluated)."""
    return bool(tool.checks) and all(s in ("pass", "fail", "warning") for s in tool.checks.values())


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


def _soda_agreement_row(
    cached: CachedTable, agreements: dict[str, Agreement], soda: dict[str, Tool]
) -> Row:
    """One row for every Soda variant: the first one's outcomes, and whether all agree."""
    name = "compare: rule outcomes, floe vs Soda"
    if not agreements:
        return Row(name, shape(cached), "nothing to compare", "", "")
    variants = ", ".join(agreements)
    first = next(iter(agreements.values()))
    figures = first.describe()
    alike = all(
        a.agreed.keys() == first.agreed.keys()
        and {k: o.status for k, o in a.agreed.items()}
        == {k: o.status for k, o in first.agreed.items()}
        for a in agreements.values()
    )
    disagreeing = {v: a for v, a in agreements.items() if not a.ok}
    if disagreeing:
        figures = "; ".join(f"{v}: {a.describe()}" for v, a in agreements.items())
    elif len(agreements) > 1:
        figures += " (every variant alike)" if alike else " (variants differ in what they agree on)"
    broken = [v for v, t in soda.items() if t.broken is not None]
    if broken:
        figures += f"; {', '.join(broken)} COULD NOT RUN"
    ok = not disagreeing and not broken and all(a.ok for a in agreements.values())
    where = f"{shape(cached)}; {variants}"
    return Row(name, where, figures, "", "identical where both check", ok)


def notes(cached: CachedTable, peers: Peers) -> list[str]:
    """For the reader: own durations, figures behind the outcomes, what one tool alone checked."""
    floe, dc = peers.floe, peers.dc
    where = shape(cached)
    lines: list[str] = []
    if dc.broken is not None:
        lines.append(f"{where}: datacontract test could not run against this table: {dc.broken}")
    for tool, label in ((floe, "floe"), (peers.floe_no_persist, "floe --no-persist")):
        if tool.runs:
            inner = ", ".join(f"{k} {ms(v)}" for k, v in tool.inner_medians().items())
            lines.append(
                f"{where}: {label}'s own check durations (median; they run concurrently): {inner}"
            )
    if dc.runs:
        inner = ms(dc.inner_medians()["test"])
        lines.append(f"{where}: datacontract's own run time (median, start to end): {inner}")
    for variant, tool in peers.soda.items():
        if tool.broken is not None:
            lines.append(f"{where}: Soda ({variant}) could not run: {tool.broken}")
        elif tool.runs and "verify" in tool.inner_medians():
            inner = ms(tool.inner_medians()["verify"])
            lines.append(
                f"{where}: Soda's own verification time, {variant} (median, its result's "
                f"started to ended timestamps): {inner}"
            )
    if dc.broken is None:
        lines.extend(_peer_notes(where, floe, dc, peers.agreement))
    for variant, agreement in peers.soda_agreements.items():
        lines.extend(_peer_notes(f"{where}, Soda {variant}", floe, peers.soda[variant], agreement))
    return lines


def _peer_notes(where: str, floe: Tool, peer: Tool, agreement: Agreement) -> list[str]:
    name = agreement.peer
    lines: list[str] = []
    values = [
        f"{k} floe {floe.outcomes[k].shown()} / {name} {peer.outcomes[k].shown()}"
        for k in agreement.agreed
        if floe.outcomes[k].shown() is not None and peer.outcomes[k].shown() is not None
    ]
    if values:
        lines.append(f"{where}: figures behind the outcomes: " + "; ".join(values))
    if agreement.values_differ:
        lines.append(f"{where}: figures that differ: {agreement.values_differ}")
    if agreement.only_floe:
        only = ", ".join(
            f"{k.removeprefix('floe:')} {floe.outcomes[k].status}" for k in agreement.only_floe
        )
        lines.append(f"{where}: checked by floe only (not by {name}): {only}")
    if agreement.only_peer:
        only = ", ".join(
            f"{k.removeprefix(name + ':')} {peer.outcomes[k].status}" for k in agreement.only_peer
        )
        lines.append(f"{where}: checked by {name} only: {only}")
    return lines
