"""The team's shared material (``shared/``: the ODCS corpus, the OpenLineage schemas), which
lives beside the repository, not in it.

Found as ``../shared`` relative to this checkout, else beside the repository it was cloned
from (a local clone such as ``git clone /work/main /tmp/fresh`` keeps its origin's path).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``shared/`` beside this checkout, or beside its local origin; the first if neither."""
    beside = REPOSITORY.parent / "shared"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(
            ["git", "-C", str(REPOSITORY), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return beside
    if origin and "://" not in origin and Path(origin).is_dir():
        candidate = Path(origin).resolve().parent / "shared"
        if candidate.is_dir():
            return candidate
    return beside
