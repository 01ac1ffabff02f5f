"""Ongoing monitoring: the playbook's maintenance schedule as period checks, red flags and alerts."""

from leadjourney.monitor.alerts import Delivery, deliver
from leadjourney.monitor.impact import Implementation, impact_verdicts, mark_implemented
from leadjourney.monitor.periods import Period, PeriodMetrics, judged_periods, period_metrics
from leadjourney.monitor.quarterly import QuarterMetrics, quarter_metrics, quarterly_verdicts
from leadjourney.monitor.report import write_report
from leadjourney.monitor.rules import RULES, Rule, Verdict, evaluate
from leadjourney.monitor.run import (
    COULD_NOT_RUN,
    HEALTHY,
    RED_FLAGS,
    MonitorError,
    MonitorRun,
    history,
    run_monitor,
)

__all__ = [
    "COULD_NOT_RUN",
    "HEALTHY",
    "RED_FLAGS",
    "RULES",
    "Delivery",
    "Implementation",
    "MonitorError",
    "MonitorRun",
    "Period",
    "PeriodMetrics",
    "QuarterMetrics",
    "Rule",
    "Verdict",
    "deliver",
    "evaluate",
    "history",
    "impact_verdicts",
    "judged_periods",
    "mark_implemented",
    "period_metrics",
    "quarter_metrics",
    "quarterly_verdicts",
    "run_monitor",
    "write_report",
]
