"""Speed-to-lead: from the first inbound signal to the first human outreach, per person.

The signal is the person's entry into the MQL stage (the playbook's "MQL trigger";
the configured stage named ``MQL``, else the second configured stage) or their
first ``form_fill`` touchpoint (``[analysis] speed_to_lead_from``). The response is
the first touchpoint with ``actor = 'human'`` at or after the signal, over all the
lead records the person is merged from (``leads.person_id``).

People with a signal and no human touch are *never contacted* only when the signal
is old enough to judge: at least ``judge_after_days`` before the as-of date, or the
95th percentile of observed response times when that is longer. The others are
*too recent to judge* and are left out of every share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.readback import build, moment, pair
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.status import OK, MetricStatus, for_count, withheld
from leadjourney.engine import fetch_rows
from leadjourney.errors import OptionError
from leadjourney.ingest.person_engagement import FORM_FILL
from leadjourney.ingest.person_engagement import signal_stage_index as _signal_stage_index
from leadjourney.tabular import Tabular

SIGNALS = ("mql", "form_fill")

# (label, upper bound in minutes, inclusive); the last contacted bucket is open-ended
BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("<=5 min", 5.0),
    ("5-60 min", 60.0),
    ("1-24 h", 24 * 60.0),
    ("1-7 d", 7 * 24 * 60.0),
    (">7 d", None),
)

BENCHMARKS: dict[str, Any] = {
    "optimal_minutes": 5.0,
    "optimal_source": "[3] What Is Lead Response Time and How It Wins You More Deals - Chili Piper",
    "average_b2b_hours": 42.0,
    "average_b2b_source": "[3] What Is Lead Response Time and How It Wins You More Deals - Chili Piper",
    "share_ever_contacted": 0.27,
    "share_ever_contacted_source": "[4] We Tested 114 B2B Companies' Lead Response Times - Workato",
}


def signal_stage_index(journeys: Journeys) -> int:
    """The stage that starts the clock in ``mql`` mode: the one named MQL, else the second stage."""
    return _signal_stage_index(journeys.config.stage_names)


@dataclass
class SpeedToLead(Tabular):
    """Minutes from the inbound signal to the first human touch, and who was never contacted.

    >>> speed = SpeedToLead().fit(journeys)   # doctest: +SKIP
    >>> speed.median_minutes                  # doctest: +SKIP
    1204.5
    """

    signal: str | None = None  # "mql" | "form_fill"; None: the config's speed_to_lead_from
    status: MetricStatus = OK  # withheld when its inputs are missing (no touchpoints, no signal)
    as_of: datetime | None = None
    judge_after_days: float = 7.0  # minimum age of a signal before "no human touch" means never contacted
    signal_stage: str | None = None  # the stage that starts the clock in mql mode
    n: int = 0  # people with a dated signal up to as_of
    n_contacted: int = 0
    n_never_contacted: int = 0
    n_too_recent: int = 0  # no human touch yet, signal younger than the judging window
    n_judged: int = 0  # n - n_too_recent: the denominator of every share
    judged_after_days: float | None = None  # the judging window used (max of minimum and p95)
    never_contacted_share: float | None = None
    never_contacted_ci: tuple[float, float] | None = None
    mean_minutes: float | None = None
    median_minutes: float | None = None
    p90_minutes: float | None = None
    p95_minutes: float | None = None
    n_within_5_min: int = 0
    share_within_5_min: float | None = None
    within_5_min_ci: tuple[float, float] | None = None
    n_within_1_hour: int = 0
    share_within_1_hour: float | None = None
    within_1_hour_ci: tuple[float, float] | None = None
    distribution: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.signal is not None and self.signal not in SIGNALS:
            raise OptionError(f"speed-to-lead signal must be one of {', '.join(SIGNALS)}, not {self.signal!r}")

    def fit(self, journeys: Journeys) -> SpeedToLead:
        self.signal = self.signal or journeys.config.speed_to_lead_from
        self.as_of = self.as_of or journeys.as_of()
        self.status = self._inputs(journeys)
        if not self.status.shown:
            return self
        as_of = ibis.timestamp(self.as_of)
        people = self.people(journeys).filter(lambda t: t.signal_at.notnull() & (t.signal_at <= as_of))
        minutes = (people.first_human_at.epoch_seconds() - people.signal_at.epoch_seconds()) / 60.0
        people = people.mutate(minutes=minutes.cast("float64"))

        # one round trip, judging at the minimum window; again only when the p95 response is slower
        counts = _counts(people, self.as_of, self.judge_after_days)
        self.n_contacted = int(counts["n_contacted"] or 0)
        self.mean_minutes, self.median_minutes = counts["mean"], counts["q50"]
        self.p90_minutes, self.p95_minutes = counts["q90"], counts["q95"]
        window = self.judge_after_days
        if self.p95_minutes is not None:
            window = max(window, self.p95_minutes / (24 * 60))
        self.judged_after_days = window
        if window != self.judge_after_days:
            counts = _counts(people, self.as_of, window)
        self.n = int(counts["n"])
        self.n_never_contacted = int(counts["never"] or 0)
        self.n_too_recent = int(counts["recent"] or 0)
        self.n_judged = judged = self.n - self.n_too_recent
        self.n_within_5_min = int(counts["within_5"] or 0)
        self.n_within_1_hour = int(counts["within_60"] or 0)
        self.never_contacted_share, self.never_contacted_ci = _share(self.n_never_contacted, judged)
        self.share_within_5_min, self.within_5_min_ci = _share(self.n_within_5_min, judged)
        self.share_within_1_hour, self.within_1_hour_ci = _share(self.n_within_1_hour, judged)
        self.distribution = self._distribution(counts)
        if self.n == 0:
            stage = f"a dated {self.signal_stage} entry" if self.signal == "mql" else "a dated form fill"
            self.status = withheld(f"nobody in the selection has {stage}")
        else:
            self.status = for_count(judged, journeys.config.min_n, "people old enough to judge")
        return self

    def _inputs(self, journeys: Journeys) -> MetricStatus:
        """Withheld when the workspace lacks what the metric reads: touchpoints, touches by a person, the
        signal (the signal stage's entries, or form fills)."""
        inputs = journeys.inputs
        assert inputs is not None
        if not inputs.touchpoints:
            return withheld("needs touchpoints; none loaded")
        if not inputs.human_touches:
            return withheld(f"needs touchpoints by a person (actor = human); none of the {inputs.touchpoints:,} "
                            "loaded is")
        if self.signal == FORM_FILL:
            if not inputs.form_fills:
                return withheld("needs form fills (touchpoints of kind form_fill); none loaded")
            return OK
        configured = (journeys.configured or journeys.config).stage_names
        stage = configured[_signal_stage_index(configured)]
        if stage in inputs.stages_without_data:
            return withheld(f"needs {stage} stage entries; none loaded")
        return OK

    def people(self, journeys: Journeys) -> ir.Table:
        """person_key, signal_at (when the clock starts), first_human_at (the first human touch at or after it)."""
        assert self.as_of is not None
        if self.signal == FORM_FILL:
            engagement = journeys.engagement(self.as_of, journeys.config.dark_after_days)
            return engagement.select("person_key", signal_at="first_form_fill_at",
                                     first_human_at="first_human_after_form_at")
        i = signal_stage_index(journeys)
        self.signal_stage = journeys.config.stage_names[i]
        people = journeys.with_engagement(self.as_of, journeys.config.dark_after_days)
        return people.select("person_key", signal_at=people[f"at_{i}"], first_human_at="first_human_after_stage_at")

    def _distribution(self, counts: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        low = 0.0
        judged = self.n_judged
        for i, (label, high) in enumerate(BUCKETS):
            k = int(counts[f"b{i}"] or 0)
            rows.append({"bucket": label, "from_minutes": low, "to_minutes": high, "count": k,
                         "share": k / judged if judged else None})
            low = high if high is not None else low
        rows.append({"bucket": "never", "from_minutes": None, "to_minutes": None, "count": self.n_never_contacted,
                     "share": self.n_never_contacted / judged if judged else None})
        rows.append({"bucket": "too recent to judge", "from_minutes": None, "to_minutes": None,
                     "count": self.n_too_recent, "share": None})
        return rows

    def caveat(self) -> str | None:
        if not self.status.shown:
            return self.status.text()
        if self.n == 0:
            return "nobody in the selection has a dated inbound signal"
        if self.n_contacted == 0:
            return "nobody with a signal was ever touched by a person: check that touchpoints carry actor = human"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "signal_stage": self.signal_stage,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "n": self.n,
            "n_contacted": self.n_contacted,
            "n_judged": self.n_judged,
            "n_too_recent": self.n_too_recent,
            "judged_after_days": self.judged_after_days,
            "never_contacted": {"count": self.n_never_contacted, "share": self.never_contacted_share,
                                "ci": _ci(self.never_contacted_ci)},
            "mean_minutes": self.mean_minutes,
            "median_minutes": self.median_minutes,
            "p90_minutes": self.p90_minutes,
            "p95_minutes": self.p95_minutes,
            "within_5_min": {"count": self.n_within_5_min, "share": self.share_within_5_min,
                             "ci": _ci(self.within_5_min_ci)},
            "within_1_hour": {"count": self.n_within_1_hour, "share": self.share_within_1_hour,
                              "ci": _ci(self.within_1_hour_ci)},
            "distribution": self.distribution,
            "benchmarks": dict(BENCHMARKS),
            "caveat": self.caveat(),
            "status": self.status.status.value,
            "status_reason": self.status.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SpeedToLead:
        """The inverse of :meth:`to_dict` (the benchmarks and the caveat are derived)."""
        never, five, hour = (d.get(k) or {} for k in ("never_contacted", "within_5_min", "within_1_hour"))
        return build(cls, d, status=MetricStatus.of(d), as_of=moment(d.get("as_of")),
                     n_never_contacted=never.get("count", 0), never_contacted_share=never.get("share"),
                     never_contacted_ci=pair(never.get("ci")),
                     n_within_5_min=five.get("count", 0), share_within_5_min=five.get("share"),
                     within_5_min_ci=pair(five.get("ci")),
                     n_within_1_hour=hour.get("count", 0), share_within_1_hour=hour.get("share"),
                     within_1_hour_ci=pair(hour.get("ci")))


def _counts(people: ir.Table, as_of: datetime, window: float) -> dict[str, Any]:
    """Response-time figures of the contacted, and everyone's counts judged at ``window`` days."""
    cutoff = ibis.timestamp(as_of - timedelta(days=window))
    contacted = people.first_human_at.notnull()
    bucket = ibis.cases(
        *[(people.minutes <= hi, i) for i, (_, hi) in enumerate(BUCKETS) if hi is not None],
        else_=len(BUCKETS) - 1,
    )
    return fetch_rows(people.aggregate(
        n=people.count(),
        n_contacted=contacted.sum(),
        mean=people.minutes.mean(where=contacted),
        q50=people.minutes.quantile(0.5, where=contacted),
        q90=people.minutes.quantile(0.9, where=contacted),
        q95=people.minutes.quantile(0.95, where=contacted),
        never=(~contacted & (people.signal_at <= cutoff)).sum(),
        recent=(~contacted & (people.signal_at > cutoff)).sum(),
        within_5=(people.minutes <= 5.0).fill_null(False).sum(),
        within_60=(people.minutes <= 60.0).fill_null(False).sum(),
        **{f"b{i}": (contacted & (bucket == i)).sum() for i in range(len(BUCKETS))},
    ))[0]


def _share(k: int, n: int) -> tuple[float | None, tuple[float, float] | None]:
    if n <= 0:
        return None, None
    return k / n, wilson_interval(k, n)


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return list(ci) if ci is not None else None
