"""Run one command and measure it: exit code, wall and CPU time, peak RSS.

Used as a script, ``python _spawn.py STDOUT_FILE STDERR_FILE COMMAND...``, which prints the
figures as JSON. The benchmark does not spawn the command itself because Linux carries the
spawning process's peak RSS across ``exec`` into the child's ``ru_maxrss``; the benchmark
process holds hundreds of MiB, this one a few.

The wall time ends when the command exits. CPU time and peak RSS count every process it
started as well (floe's DuckDB worker, which exits right after floe): the launcher is a child
subreaper, so such processes become its own children when the command exits, and it reaps them
and adds their CPU time and their peak RSS. The sum of peaks is an upper bound of the memory
the processes held at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory, gettempdir
from typing import Any


@dataclass(frozen=True)
class ProcessRun:
    """One finished command: exit code, wall and CPU seconds, peak RSS, captured output.

    CPU and peak RSS add up every process the command ran (``processes``).
    """

    exit_code: int
    wall: float
    cpu: float
    max_rss_kib: int
    processes: int
    stdout: str
    stderr: str


def floe_environment() -> dict[str, str]:
    """The environment for timing floe: no ``FLOE_MANIFEST``, bytecode caching, own state.

    Here floe is an editable install, whose ``.pyc`` files only a run of floe writes; with
    ``PYTHONDONTWRITEBYTECODE`` set, every run would compile all of floe's modules again
    (about 80 ms), which no installed floe does: pip compiles a wheel's modules when it
    installs it, as it did datacontract-cli's. So the untimed warm-up run writes them.
    """
    skip = ("FLOE_MANIFEST", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    # A state database of this benchmark run's own: timed runs see the history of the runs
    # before them (as a CI job does), never what earlier benchmark runs left in ./.floe/.
    env["FLOE_STATE_URL"] = f"sqlite:///{gettempdir()}/floe-bench-state-{os.getpid()}.db"
    if env["FLOE_STATE_URL"] not in _UPGRADED:  # a database floe's runs must be able to use
        floe = Path(sys.executable).parent / "floe"
        subprocess.run(
            [str(floe), "sla", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        _UPGRADED.add(env["FLOE_STATE_URL"])
    return env


_UPGRADED: set[str] = set()


def floe_report(run: ProcessRun, *, persisted: bool = True) -> dict[str, Any]:
    """The JSON report; fail unless floe checked (exit 0 or 1) and no check errored.

    ``persisted``: the run was meant to write its results (no ``--no-persist``); fail if
    it could not.
    """
    if run.exit_code not in (0, 1):
        raise RuntimeError(
            f"floe sla check exited {run.exit_code}; it could not check:\n{run.stderr}"
        )
    # A run that skipped its writes would be timed unfairly.
    if persisted and "not persisted" in run.stderr:
        raise RuntimeError(f"floe sla check did not persist its results:\n{run.stderr}")
    report = json.loads(run.stdout)
    errored = [r for r in report["results"] if r["status"] == "error"]
    if errored:
        raise RuntimeError(f"a floe check errored: {json.dumps(errored, indent=2)}")
    assert isinstance(report, dict)
    return report


def measure(argv: list[str], env: dict[str, str] | None = None) -> ProcessRun:
    """Run ``argv`` to completion from a small launcher process and measure it."""
    with TemporaryDirectory(prefix="floe-bench-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        launcher = [sys.executable, __file__, str(out), str(err), *argv]
        done = subprocess.run(launcher, env=env, capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout)
        return ProcessRun(**figures, stdout=out.read_text(), stderr=err.read_text())


def _launch(stdout: str, stderr: str, argv: list[str]) -> dict[str, float | int]:
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        _become_subreaper()
        started = time.monotonic()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.monotonic() - started
        cpu, rss, processes = usage.ru_utime + usage.ru_stime, usage.ru_maxrss, 1
        for other in _orphans():
            cpu += other.ru_utime + other.ru_stime
            rss += other.ru_maxrss
            processes += 1
    return {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall": wall,
        "cpu": cpu,
        "max_rss_kib": rss,
        "processes": processes,
    }


def _become_subreaper() -> None:
    """Adopt the command's orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _orphans(timeout: float = 30.0) -> list[os.struct_rusage]:
    """The usage of every adopted process, once each has exited (killed after ``timeout``)."""
    usages = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return usages
        if pid:
            usages.append(usage)
        elif time.monotonic() > deadline:
            _kill_children()
        else:
            time.sleep(0.002)


def _kill_children() -> None:
    for task in os.listdir("/proc/self/task"):
        children = Path(f"/proc/self/task/{task}/children").read_text().split()
        for child in children:
            os.kill(int(child), signal.SIGKILL)


if __name__ == "__main__":
    print(json.dumps(_launch(sys.argv[1], sys.argv[2], sys.argv[3:])))
