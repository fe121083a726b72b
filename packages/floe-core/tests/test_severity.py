import pytest

from floe_core.config import SeverityThresholds
from floe_core.events import ViolationSeverity
from floe_core.monitoring.severity import consumed_severity

T = SeverityThresholds()


@pytest.mark.parametrize(
    ("pct", "breached", "expected"),
    [
        (0.0, False, None),
        (79.99, False, None),
        (80.0, False, ViolationSeverity.INFO),
        (89.99, False, ViolationSeverity.INFO),
        (90.0, False, ViolationSeverity.WARNING),
        (120.0, False, ViolationSeverity.WARNING),  # over the SLA but within clock-skew tolerance
        (100.01, True, ViolationSeverity.ERROR),
    ],
)
def test_bands(pct: float, breached: bool, expected: ViolationSeverity | None):
    assert consumed_severity(pct, T, breached=breached) == expected


def test_custom_thresholds_move_the_bands():
    custom = SeverityThresholds(info_pct=50, warning_pct=75)
    assert consumed_severity(60, custom, breached=False) is ViolationSeverity.INFO
    assert consumed_severity(75, custom, breached=False) is ViolationSeverity.WARNING
