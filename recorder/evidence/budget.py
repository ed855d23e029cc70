"""Error budget: how much of the monthly allowance an incident's downtime used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BUDGET_PERIOD_SECONDS = 30 * 86400
"""The SLO period: 30 days, so 99.9 % allows 43.2 minutes."""


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """Share of the monthly error budget (30 days × (1 − SLO)) that the downtime used."""

    slo_target: float
    budget_seconds: float
    downtime_seconds: float
    used: float

    @property
    def breached(self) -> bool:
        """SLA breach: more than the whole budget used."""
        return self.used > 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo_target": self.slo_target,
            "budget_seconds": self.budget_seconds,
            "downtime_seconds": self.downtime_seconds,
            "used": self.used,
            "breached": self.breached,
        }


def error_budget_seconds(slo_target: float) -> float:
    """Allowed downtime per 30 days: 2592 s (43.2 minutes) for 0.999."""
    if not 0 < slo_target < 1:
        raise ValueError(f"slo_target={slo_target!r} must be a fraction in (0, 1), e.g. 0.999")
    # Rounded to the millisecond so 0.999 gives exactly 2592.0, not 2592.0000000000023.
    return round(BUDGET_PERIOD_SECONDS * (1 - slo_target), 3)


def budget_used(downtime_seconds: float, slo_target: float) -> BudgetUse:
    """How much of the monthly budget `downtime_seconds` used; `used` 1.0 = all of it."""
    if downtime_seconds < 0:
        raise ValueError(f"downtime_seconds={downtime_seconds!r} must not be negative")
    budget = error_budget_seconds(slo_target)
    return BudgetUse(slo_target, budget, downtime_seconds, downtime_seconds / budget)
