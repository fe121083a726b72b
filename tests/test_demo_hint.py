"""The demo's closing hint works as printed: pasted into a shell where the demo ran."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "examples/demo/run_demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_closing_hint_runs_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = demo_module()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    demo.build(tmp_path / ".floe")
    hint = demo.closing_hint(Path(sys.prefix))
    commands = [line.strip() for line in hint if line.startswith("  ")]
    assert commands[0].startswith("source ")
    assert commands[0].endswith("/bin/activate")
    assert all(c.startswith("floe ") for c in commands[1:])
    # Each command as a user pastes it, with floe on no PATH until the venv is activated.
    script = "\n".join([commands[0], *(f'{c}; echo "exit $?"' for c in commands[1:])])
    env = {k: v for k, v in os.environ.items() if k not in ("FLOE_STATE_URL", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert "command not found" not in done.stderr, done.stderr
    exits = [line for line in done.stdout.splitlines() if line.startswith("exit ")]
    # payments has drifted (exit 1); history and the report succeed.
    assert exits == ["exit 1", "exit 0", "exit 0"], done.stdout + done.stderr
    assert '"contract_name": "payments"' in done.stdout
    assert (tmp_path / "sla-report.html").read_text().startswith("<!DOCTYPE html>")
