"""What a recommendation rests on: the metric it should move, and the numbers that triggered it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadjourney.display import days, minutes, percent

ASSUMED, CONFIRMED, CORRECTED = "ASSUMED", "CONFIRMED", "CORRECTED"


@dataclass(frozen=True)
class Metric:
    """The number a recommendation should move: its current value, benchmark and target."""

    key: str  # e.g. "conversion_rate:MQL->SQL", "speed_to_lead:median_minutes"
    label: str
    unit: str  # "rate", "share", "minutes", "days"
    current: float | None
    target: float | None
    target_source: str  # where the target comes from
    benchmark: str | None = None  # the benchmark text(s), e.g. "15-21% (average) [1]"
    direction: str = "up"  # "up" or "down": which way is better

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "unit": self.unit, "current": self.current,
                "target": self.target, "target_source": self.target_source, "benchmark": self.benchmark,
                "direction": self.direction, "current_text": fmt(self.current, self.unit),
                "target_text": fmt(self.target, self.unit)}


@dataclass(frozen=True)
class Evidence:
    """One number behind a recommendation, with its sample size, interval and finding."""

    metric: str
    value: float | None
    unit: str
    n: int | None
    ci: tuple[float, float] | None
    finding_id: str | None  # a finding of `leadjourney findings`; None when the number is not one
    status: str = ASSUMED

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "unit": self.unit, "n": self.n,
                "ci": list(self.ci) if self.ci else None, "finding_id": self.finding_id, "status": self.status,
                "value_text": fmt(self.value, self.unit)}

    def ci_text(self) -> str:
        if self.ci is None:
            return "-"
        return f"{fmt(self.ci[0], self.unit)} - {fmt(self.ci[1], self.unit)}"


def fmt(value: float | None, unit: str) -> str:
    """A value in its unit: ``21.7%``, ``14.8 h``, ``3.9 d``, ``1,234``."""
    if value is None:
        return "-"
    if unit in ("rate", "share"):
        return percent(value)
    if unit == "minutes":
        return minutes(value)
    if unit == "days":
        return days(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def overall_status(evidence: tuple[Evidence, ...]) -> str:
    """CORRECTED when stakeholders corrected any finding behind it; CONFIRMED when all are; else ASSUMED."""
    linked = [e.status for e in evidence if e.finding_id]
    if CORRECTED in linked:
        return CORRECTED
    if linked and all(s == CONFIRMED for s in linked):
        return CONFIRMED
    return ASSUMED
