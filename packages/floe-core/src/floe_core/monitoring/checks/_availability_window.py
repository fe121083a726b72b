"""The availability check's memory: each contract's probe outcomes of the last 24 hours.

Outcomes older than ``WINDOW`` are dropped as new ones arrive, and a contract keeps at most
``max_outcomes`` of them, so memory stays bounded however often the monitor probes. A window
may start from outcomes seen elsewhere (the persisted probes of earlier processes), replayed
oldest first as if this process had made them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
#: Outcomes kept per contract by default: one probe every 8.64 s fills 24 h; beyond that,
#: the window holds the newest ``MAX_OUTCOMES``.
MAX_OUTCOMES = 10_000


@dataclass(frozen=True)
class Window:
    """A contract's window right after one probe was added to it."""

    probes: int
    failures: int
    consecutive_failures: int
    recovered_after: int  # the failures in a row this (successful) probe ended, else 0
    down_since: datetime | None  # when the current (or just ended) run of failures began


class History:
    """One contract's probe outcomes of the last 24 h, and its current run of failures."""

    def __init__(self, max_outcomes: int) -> None:
        self.max_outcomes = max_outcomes
        self.outcomes: deque[tuple[datetime, bool]] = deque()
        self.failures = 0
        self.consecutive_failures = 0
        self.down_since: datetime | None = None

    def replay(self, outcomes: Iterable[tuple[datetime, bool]]) -> int:
        """Add earlier ``outcomes`` (oldest first) to the window; how many were given."""
        count = 0
        for at, ok in outcomes:
            self.add(at, ok)
            count += 1
        return count

    def add(self, now: datetime, ok: bool) -> Window:
        """Record one probe outcome at ``now``, dropping outcomes older than ``WINDOW``."""
        while self.outcomes and (
            now - self.outcomes[0][0] > WINDOW or len(self.outcomes) >= self.max_outcomes
        ):
            _, dropped_ok = self.outcomes.popleft()
            if not dropped_ok:
                self.failures -= 1
        self.outcomes.append((now, ok))
        recovered_after, down_since = 0, self.down_since
        if not ok:
            self.failures += 1
            if self.consecutive_failures == 0:
                self.down_since = down_since = now
            self.consecutive_failures += 1
        elif self.consecutive_failures:
            recovered_after = self.consecutive_failures
            self.consecutive_failures, self.down_since = 0, None
        probes = len(self.outcomes)
        return Window(probes, self.failures, self.consecutive_failures, recovered_after, down_since)

    def expired(self, now: datetime) -> bool:
        """Whether even the newest outcome has left the window."""
        return not self.outcomes or now - self.outcomes[-1][0] > WINDOW
