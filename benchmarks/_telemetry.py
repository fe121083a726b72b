"""The overhead of traces and lineage: both exporting to local receivers, against neither.

1. ``floe sla check`` on a full contract (freshness, drift, two quality rules, availability,
   deprecation) at 1M rows in 10 files, whose table is stale so every check with something
   to say sends lineage: wall and CPU time (floe and its DuckDB worker), median of
   ``repeat`` runs of each configuration, run in turns.
2. ``floe sla monitor`` on 1,000 contracts over 20 tables at the default intervals divided
   by 10 (about 48 checks a second, half what one process can run), one contract in ten
   failing freshness on every run, for ``monitor_seconds`` each way: neither; both, lineage
   as configured by default (runs with a violation); both, every run sending lineage
   (``emit_on_pass``, the worst case); neither again. CPU per check and lag.

"Both" is ``OTEL_EXPORTER_OTLP_ENDPOINT`` at an HTTP receiver that answers every export, and
``plugins.lineage_backend`` at another that answers every event, both on 127.0.0.1 in a
child process. Target: overhead under 5%.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _e2e import write_inputs
from _history import _database_url, _drop_database, _recreate_database
from _monitor import Monitor, MonitorConfig, _figures, _floe, _lake, _register
from _report import Row, Section
from _spawn import floe_environment, measure
from _tables import ensure_orders

OVERHEAD_TARGET = 0.05
DATABASE = "floe_bench_telemetry"
FLOE = str(Path(sys.executable).parent / "floe")


def run_telemetry(repeat: int, monitor_seconds: float, server: str) -> Section:
    section = Section("telemetry")
    receivers = _Receivers()
    try:
        _one_off(section, repeat, receivers)
        _monitor(section, monitor_seconds, receivers, server)
    finally:
        receivers.stop()
    return section


class _Receivers:
    """Two HTTP receivers (OTLP, OpenLineage) in a child process, answering 200 at once."""

    def __init__(self) -> None:
        code = (
            "import sys, time\n"
            "from floe_core.testing.receiver import HttpReceiver\n"
            "a, b = HttpReceiver(), HttpReceiver()\n"
            "a.__enter__(); b.__enter__()\n"
            "print(a.url(''), b.url(''), flush=True)\n"
            "sys.stdin.read()\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.otlp, self.lineage = (u.rstrip("/") for u in self.process.stdout.readline().split())

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if not k.startswith("OTEL_")}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.otlp
        return env

    def lineage_backend(self) -> dict[str, Any]:
        return {
            "type": "openlineage",
            "config": {"transport": {"type": "http", "url": self.lineage}},
        }

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


def _one_off(section: Section, repeat: int, receivers: _Receivers) -> None:
    print("  floe sla check, 1M rows, neither vs traces + lineage ...", flush=True)
    cached = ensure_orders(1_000_000, 10)
    contract, manifest = write_inputs(cached)
    doc = yaml.safe_load(contract.read_text())
    props = doc["schema"][0]["properties"]
    props[0]["quality"] = [{"metric": "duplicateValues", "mustBe": 0}]
    props[1]["quality"] = [{"metric": "nullValues", "mustBeLessThan": 10, "unit": "percent"}]
    doc["slaProperties"][0].update(value=1, unit="s")  # stale: freshness fails, lineage sent
    full = contract.with_name("contract.telemetry.yaml")
    full.write_text(yaml.safe_dump(doc, sort_keys=False))
    with_both = manifest.with_name("manifest.telemetry.yaml")
    both_doc = yaml.safe_load(manifest.read_text())
    both_doc["plugins"]["lineage_backend"] = receivers.lineage_backend()
    with_both.write_text(yaml.safe_dump(both_doc))
    base = floe_environment()
    configs = {
        "neither": ([FLOE, "sla", "check", str(full), "--manifest", str(manifest)], base),
        "both": (
            [FLOE, "sla", "check", str(full), "--manifest", str(with_both)],
            receivers.env(base),
        ),
    }
    for argv, env in configs.values():  # warm-up: .pyc files, caches
        measure([*argv, "--format", "json"], env)
    walls: dict[str, list[float]] = {name: [] for name in configs}
    cpus: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(repeat):
        for name, (argv, env) in configs.items():
            run = measure([*argv, "--format", "json"], env)
            if run.exit_code not in (0, 1):
                raise RuntimeError(f"floe sla check exited {run.exit_code}:\n{run.stderr}")
            walls[name].append(run.wall)
            cpus[name].append(run.cpu)
    wall = {n: statistics.median(v) for n, v in walls.items()}
    cpu = {n: statistics.median(v) for n, v in cpus.items()}
    section.figures["one_off"] = {"wall_s": walls, "cpu_s": cpus}
    over_wall = wall["both"] / wall["neither"] - 1
    over_cpu = cpu["both"] / cpu["neither"] - 1
    section.rows.append(
        Row(
            "telemetry: floe sla check",
            f"full contract, 1M rows, stale (n={repeat} each, in turns)",
            f"neither: {wall['neither']:.3f} s wall, {cpu['neither']:.3f} s CPU; traces + "
            f"lineage: {wall['both']:.3f} s, {cpu['both']:.3f} s",
            ratio=f"{over_wall:+.1%} wall, {over_cpu:+.1%} CPU",
            target=f"< {OVERHEAD_TARGET:.0%}",
            met=over_wall < OVERHEAD_TARGET,
        )
    )


#: The share of contracts whose freshness fails every run (and so sends lineage by default).
FAILING_EVERY = 10


def _monitor(section: Section, seconds: float, receivers: _Receivers, server: str) -> None:
    print(f"  floe sla monitor, 1,000 contracts, {seconds:g} s each way ...", flush=True)
    state = _database_url(server, DATABASE, async_driver=True)
    # Half the process's capacity (about 90 checks a second here): a monitor with headroom,
    # whose CPU per check measures a check's work. At capacity any overhead turns into lag
    # that grows without bound, and CPU per check then measures catching up.
    factor = 10
    with tempfile.TemporaryDirectory(prefix="floe-bench-telemetry-") as tmp:
        work = Path(tmp)
        manifest = _lake(work, 20)
        doc = yaml.safe_load(manifest.read_text())
        intervals = doc["data_contracts"]["monitoring"]["check_intervals"]
        doc["data_contracts"]["monitoring"]["check_intervals"] = {
            k: v / factor for k, v in intervals.items()
        }
        manifest.write_text(yaml.safe_dump(doc))
        # Lineage as configured by default: a START and a FAIL for each run with a violation
        # (the freshness runs of one contract in ten).
        both = work / "manifest.both.yaml"
        doc["plugins"]["lineage_backend"] = receivers.lineage_backend()
        both.write_text(yaml.safe_dump(doc))
        # The worst case: every run sends lineage (START and COMPLETE for the passing ones).
        every = work / "manifest.every.yaml"
        doc["plugins"]["lineage_backend"]["config"]["emit_on_pass"] = True
        every.write_text(yaml.safe_dump(doc))
        _recreate_database(server, DATABASE)
        try:
            env = {**os.environ, "FLOE_STATE_URL": state}
            _floe(env, work, "sla", "db", "upgrade")
            config = MonitorConfig(1000, 20, 0, (), 0, 0, server, failing_every=FAILING_EVERY)
            asyncio.run(_register(state, work, manifest, config))
            # A monitor's first minute after the contracts were registered costs more per
            # check than the later ones (every contract due at once, cold caches): run it
            # once, untimed, so that no configuration is timed in it.
            warm_up = Monitor(work, manifest, env, "telemetry-warm-up")
            try:
                time.sleep(45)
            finally:
                warm_up.stop()
            figures = {}
            for name, path, environment in (
                ("neither", manifest, env),
                ("both", both, receivers.env(env)),
                ("both, every run", every, receivers.env(env)),
                ("neither again", manifest, env),
            ):
                monitor = Monitor(work, path, environment, f"telemetry-{name.replace(' ', '-')}")
                try:
                    time.sleep(15)
                    started, cpu_before = time.time(), monitor.cpu_seconds()
                    time.sleep(seconds)
                    elapsed, cpu = time.time() - started, monitor.cpu_seconds() - cpu_before
                    runs = monitor.runs(since=started)
                finally:
                    monitor.stop()
                found = _figures(runs, elapsed)
                found["cpu_ms_per_check"] = 1000 * cpu / max(1, len(runs))
                figures[name] = found
        finally:
            _drop_database(server, DATABASE)
    section.figures["monitor"] = figures
    neither = statistics.fmean(
        [figures["neither"]["cpu_ms_per_check"], figures["neither again"]["cpu_ms_per_check"]]
    )
    for name, what in (
        ("both", f"lineage for violations (1 contract in {FAILING_EVERY} fails freshness)"),
        ("both, every run", "worst case: lineage for every run (emit_on_pass)"),
    ):
        found = figures[name]
        over = found["cpu_ms_per_check"] / neither - 1
        section.rows.append(
            Row(
                "telemetry: floe sla monitor",
                f"1,000 contracts, {found['checks_per_s']:.0f} checks/s, {seconds:g} s each; "
                + what,
                f"CPU per check: neither {neither:.2f} ms (before and after), both "
                f"{found['cpu_ms_per_check']:.2f} ms; lag p99 "
                f"{figures['neither']['lag_p99_s'] * 1000:.0f} / "
                f"{found['lag_p99_s'] * 1000:.0f} ms",
                ratio=f"{over:+.1%} CPU",
                target=f"< {OVERHEAD_TARGET:.0%}",
                met=over < OVERHEAD_TARGET,
            )
        )
