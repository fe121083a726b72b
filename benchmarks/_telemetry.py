"""The overhead of traces and lineage: both exporting to local receivers, against neither.

1. ``floe sla check`` on a full contract (freshness, drift, two quality rules, availability,
   deprecation) at 1M rows in 10 files, whose table is stale so every check with something
   to say sends lineage: wall and CPU time (floe and its DuckDB worker), median of
   ``repeat`` runs of each configuration, run in turns.
2. ``floe sla monitor``: two at once, each on 1,000 contracts over 20 tables (state
   databases of their own, the same lake) at the default intervals divided by 5 (about 24
   checks a second each), one contract in ten failing freshness on every run. Each round
   times both over the same ``monitor_seconds``, one with neither, the other with both
   (lineage as configured by default: runs with a violation), or with every run sending
   lineage (``emit_on_pass``, the worst case); sides swap every other round. CPU per check
   (the monitor and its DuckDB worker) and lag.

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
    """Two HTTP/1.1 receivers (OTLP, OpenLineage) in a child process, answering 200 at once
    and keeping connections open, as a collector and a lineage backend do."""

    def __init__(self) -> None:
        code = (
            "import sys, time\n"
            "from floe_core.testing.receiver import HttpReceiver\n"
            "a, b = HttpReceiver(keep_alive=True), HttpReceiver(keep_alive=True)\n"
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
NEITHER, BOTH, EVERY = "neither", "both", "both, every run"
#: Two monitors run at once, each on a state database of its own, one configuration each,
#: sides swapped every other round: a check's CPU cost here swings by 10-40% from one minute
#: to the next with nothing changed, far more than the overhead measured, and two monitors
#: timed over the same seconds see the same swings.
ROUNDS = ((NEITHER, BOTH), (BOTH, NEITHER), (NEITHER, EVERY), (EVERY, NEITHER))


def _monitor(section: Section, seconds: float, receivers: _Receivers, server: str) -> None:
    print(f"  floe sla monitor, 2 x 1,000 contracts, {len(ROUNDS)} rounds of {seconds:g} s ...")
    # Each monitor at a quarter of what one process can run (about 24 checks a second), the
    # two together at half the machine: at capacity any overhead turns into lag that grows
    # without bound, and CPU per check then measures catching up.
    factor = 5
    databases = (f"{DATABASE}_a", f"{DATABASE}_b")
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
        envs = []
        try:
            for database in databases:
                _recreate_database(server, database)
                state = _database_url(server, database, async_driver=True)
                env = {**os.environ, "FLOE_STATE_URL": state}
                _floe(env, work, "sla", "db", "upgrade")
                config = MonitorConfig(1000, 20, 0, (), 0, 0, server, failing_every=FAILING_EVERY)
                asyncio.run(_register(state, work, manifest, config))
                envs.append(env)
            configs = {
                NEITHER: lambda env: (manifest, env),
                BOTH: lambda env: (both, receivers.env(env)),
                EVERY: lambda env: (every, receivers.env(env)),
            }
            # The first minute after registering costs more per check (every contract due
            # at once, cold caches): run it once, untimed.
            rounds: list[dict[str, dict[str, Any]]] = []
            for index, names in enumerate(((NEITHER, NEITHER), *ROUNDS)):
                monitors = []
                for side, (name, env) in enumerate(zip(names, envs, strict=True)):
                    path, environment = configs[name](env)
                    monitors.append(Monitor(work, path, environment, f"round-{index}-{side}"))
                try:
                    time.sleep(15)
                    started = time.time()
                    before = [m.cpu_seconds() for m in monitors]
                    time.sleep(seconds if index else 30)
                    elapsed = time.time() - started
                    spent = [m.cpu_seconds() - b for m, b in zip(monitors, before, strict=True)]
                    runs = [m.runs(since=started) for m in monitors]
                finally:
                    for monitor in monitors:
                        monitor.stop()
                if index == 0:
                    continue
                found: dict[str, dict[str, Any]] = {}
                for name, cpu, done in zip(names, spent, runs, strict=True):
                    figures = _figures(done, elapsed)
                    figures["cpu_ms_per_check"] = 1000 * cpu / max(1, len(done))
                    found[name] = figures
                rounds.append(found)
        finally:
            for database in databases:
                _drop_database(server, database)
    section.figures["monitor"] = rounds
    for name, what in (
        (BOTH, f"lineage for violations (1 contract in {FAILING_EVERY} fails freshness)"),
        (EVERY, "worst case: lineage for every run (emit_on_pass)"),
    ):
        pairs = [(r[NEITHER], r[name]) for r in rounds if name in r]
        overs = [b["cpu_ms_per_check"] / a["cpu_ms_per_check"] - 1 for a, b in pairs]
        over = statistics.fmean(overs)
        rate = statistics.fmean(b["checks_per_s"] for _, b in pairs)
        section.rows.append(
            Row(
                "telemetry: floe sla monitor",
                f"2 x 1,000 contracts at once, {rate:.0f} checks/s each, {len(pairs)} rounds of "
                f"{seconds:g} s, sides swapped; " + what,
                "CPU per check, neither / both: "
                + ", ".join(
                    f"{a['cpu_ms_per_check']:.2f} / {b['cpu_ms_per_check']:.2f} ms"
                    for a, b in pairs
                )
                + "; lag p99 "
                + ", ".join(
                    f"{a['lag_p99_s'] * 1000:.0f} / {b['lag_p99_s'] * 1000:.0f} ms"
                    for a, b in pairs
                ),
                ratio=f"{over:+.1%} CPU ({', '.join(f'{o:+.1%}' for o in overs)})",
                target=f"< {OVERHEAD_TARGET:.0%}",
                met=over < OVERHEAD_TARGET,
            )
        )
