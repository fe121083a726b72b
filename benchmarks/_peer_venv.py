"""A peer tool's own virtual environment: pinned, created on first use, on this interpreter.

``benchmarks/.venv-<tool>-<python>/`` is made on the interpreter the benchmark runs on (so
floe and the peer run on the same build of Python) and used by nothing but the comparison, so
the peer's dependencies never meet floe's. A marker file holds the requirements it was made
with; other requirements make it anew.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def venv_dir(tool: str) -> Path:
    """``benchmarks/.venv-<tool>-<python version>-<hash of the base interpreter's path>``."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    digest = hashlib.sha256(str(base).encode()).hexdigest()[:8]
    return HERE / f".venv-{tool}-{platform.python_version()}-{digest}"


def ensure_venv(venv: Path, requirements: Sequence[str], command: str, *, log: bool) -> Path:
    """``venv`` with ``requirements`` installed, made anew when absent or outdated; its
    Python. ``command`` is a script the requirements install (its absence means broken)."""
    marker = venv / "floe-bench-requirements.txt"
    python = venv / "bin" / "python"
    wanted = "\n".join(requirements) + "\n"
    current = marker.read_text() if marker.is_file() else None
    if current != wanted or not (venv / "bin" / command).is_file():
        if log:
            print(f"installing {' '.join(requirements)} into {venv} (once) ...", flush=True)
        if venv.exists():
            shutil.rmtree(venv)
        run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "--upgrade", "pip"])
        run([*pip, *requirements])
        marker.write_text(wanted)
    return python


def versions(python: Path, distributions: Sequence[str]) -> dict[str, str | None]:
    """The installed version of each of ``distributions`` in ``python``'s environment."""
    script = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        f"print(json.dumps({{n: v(n) for n in {list(distributions)!r}}}))"
    )
    found = json.loads(run([str(python), "-c", script]).stdout)
    assert isinstance(found, dict)
    return found


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; a RuntimeError with the end of its output if it fails."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"{' '.join(argv[:3])} ... exited {done.returncode}:\n{tail}")
    return done
