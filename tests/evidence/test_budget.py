"""Error budget: 30 days × (1 − SLO), and the share an incident used."""

from __future__ import annotations

import pytest

from recorder.evidence.budget import budget_used, error_budget_seconds


def test_three_nines_allow_43_point_2_minutes() -> None:
    """99.9 % over 30 days is 43.2 minutes of downtime."""
    assert error_budget_seconds(0.999) == 43.2 * 60


def test_budget_used_is_downtime_over_budget() -> None:
    """30 minutes down at 99.9 % uses 69.4 % of the budget: no breach."""
    use = budget_used(30 * 60, 0.999)
    assert use.used == pytest.approx(1800 / 2592)
    assert not use.breached
    assert use.to_dict()["budget_seconds"] == 2592.0


def test_more_than_the_budget_is_an_sla_breach() -> None:
    """An hour down at 99.9 % breaches; exactly the budget does not."""
    assert budget_used(3600, 0.999).breached
    assert not budget_used(2592, 0.999).breached


@pytest.mark.parametrize("slo", [0, 1, 99.9, -0.5])
def test_slo_target_must_be_a_fraction(slo: float) -> None:
    """99.9 instead of 0.999 is a configuration mistake worth a precise message."""
    with pytest.raises(ValueError, match=r"e\.g\. 0\.999"):
        error_budget_seconds(slo)


def test_negative_downtime_is_rejected() -> None:
    """Downtime cannot be negative."""
    with pytest.raises(ValueError, match="must not be negative"):
        budget_used(-1, 0.999)
