"""A real Prometheus Alertmanager for the tests, started once per session on a free port.

The binary comes from Debian's package (``apt-get install -y prometheus-alertmanager``); the
tests skip without it, unless ``FLOE_REQUIRE_ALERTMANAGER`` is set, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from floe_core.testing.receiver import free_port

INSTALL_HINT = "apt-get update && apt-get install -y prometheus-alertmanager"
_CONFIG = """\
route:
  receiver: "null"
receivers:
  - name: "null"
"""
_STARTUP_SECONDS = 30.0


def _binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found:
        return found
    message = f"Alertmanager is not installed; install it with: {INSTALL_HINT}"
    if os.environ.get("FLOE_REQUIRE_ALERTMANAGER"):
        pytest.fail(f"FLOE_REQUIRE_ALERTMANAGER is set but {message}")
    pytest.skip(message)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Alertmanager exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.1)
    pytest.fail(f"Alertmanager not ready within {_STARTUP_SECONDS:g} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real Alertmanager on 127.0.0.1 whose one receiver sends nothing.

    Shared by the session: each test uses a contract name of its own.
    """
    binary = _binary()
    home = tmp_path_factory.mktemp("alertmanager")
    (home / "am.yml").write_text(_CONFIG)
    log = home / "alertmanager.log"
    url = f"http://127.0.0.1:{free_port()}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={home / 'am.yml'}",
                f"--storage.path={home / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
                "--cluster.listen-address=",  # no clustering: no gossip port, no settling
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return free_port()
