"""The migrations ship in floe-core's wheel and run from a non-editable install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from floe_core.state.engine import HEAD_REVISION

FLOE_CORE = Path(__file__).parents[2] / "packages" / "floe-core"
MIGRATION_FILES = {
    "floe_core/state/migrations/env.py",
    "floe_core/state/migrations/script.py.mako",
    "floe_core/state/migrations/versions/0001_initial.py",
    "floe_core/state/migrations/versions/0002_violations_by_check_result.py",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """floe-core built into a wheel (no build isolation: hatchling comes from the venv)."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet", "-w", str(out)]
    done = subprocess.run([*command, str(FLOE_CORE)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [built] = out.glob("floe_core-*.whl")
    return built


def test_wheel_contains_the_migrations(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert names >= MIGRATION_FILES


def test_installed_wheel_upgrades_a_database(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    command += ["--disable-pip-version-check", "--target", str(site), str(wheel)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    probe = textwrap.dedent(
        """
        import sys
        import floe_core
        from floe_core.cli.main import cli
        print(floe_core.__file__)
        sys.exit(cli(["sla", "db", "upgrade"]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(site), "FLOE_STATE_URL": f"sqlite:///{tmp_path}/s.db"}
    env.pop("FLOE_MANIFEST", None)
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    module_file, _, upgraded = run.stdout.splitlines()
    assert Path(module_file).is_relative_to(site)
    assert upgraded == f"Upgraded from an empty database to revision {HEAD_REVISION}."
