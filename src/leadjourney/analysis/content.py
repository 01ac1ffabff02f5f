"""Content consumed before converting, and sales touches before an opportunity and a win, counted in the engine.

* **Content lift**: an asset is *consumed* by a touch carrying it that is no mere e-mail delivery or open and no
  status change (:data:`~leadjourney.analysis.marketing.NOT_CONSUMED`), made by no rep: a click, a download, a
  page view, a form, a webinar. Per milestone (MQL, SQL, won) and asset (the :data:`TOP_ASSETS` consumed by
  most people, all tested): the share of people who reached the milestone (dated) who consumed it *before*,
  against the share of people who never reached it who consumed it at all; lift = their ratio, with its 95%
  interval (Katz, on the log scale) and a Holm-corrected p over the assets. Association, not cause: people on
  their way to buy read more; and those who never converted had their whole observed time to consume it,
  which biases the lift down, not up.
* **Sales touches**: per person with an opportunity (won deal), the touches by a person (``actor = 'human'``:
  calls, meetings, a rep's e-mails) at or before their first opportunity's creation (first won deal's close):
  median, mean, p90 and the distribution (the meeting guide's "how many touches does sales make before an
  opportunity and before closed-won").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.marketing import HUMAN, NOT_CONSUMED, Milestone
from leadjourney.analysis.readback import build
from leadjourney.analysis.sources import holm
from leadjourney.analysis.stats import Z95
from leadjourney.analysis.status import OK, MetricStatus, for_count, too_few, withheld
from leadjourney.analysis.web import bucket_counts, bucket_sums
from leadjourney.engine import fetch_rows

ALPHA = 0.05
TOP_ASSETS = 50
TOUCH_BUCKETS: tuple[tuple[str, int | None], ...] = (("0", 0), ("1", 1), ("2", 2), ("3-5", 5), ("6-10", 10),
                                                     ("11-20", 20), ("21+", None))
NO_HUMAN = "no touches by a person loaded (actor = human: calls, meetings, a rep's e-mails)"
NO_OPPORTUNITIES = "no opportunities loaded"


@dataclass(frozen=True)
class AssetLift:
    asset: str
    milestone: str
    converted: int  # people who reached the milestone (dated)
    converted_consumed: int  # ... and consumed the asset before it
    never: int  # people who never reached it
    never_consumed: int
    lift: float | None = None  # share of converters who consumed it / share of the others
    ci_low: float | None = None
    ci_high: float | None = None
    p_adjusted: float | None = None
    significant: bool = False
    status: MetricStatus = OK

    @property
    def converted_share(self) -> float | None:
        return self.converted_consumed / self.converted if self.converted else None

    @property
    def never_share(self) -> float | None:
        return self.never_consumed / self.never if self.never else None

    def to_dict(self) -> dict[str, Any]:
        return {"asset": self.asset, "milestone": self.milestone, "converted": self.converted,
                "converted_consumed": self.converted_consumed, "converted_share": self.converted_share,
                "never": self.never, "never_consumed": self.never_consumed, "never_share": self.never_share,
                "lift": self.lift, "ci_low": self.ci_low, "ci_high": self.ci_high, "p_adjusted": self.p_adjusted,
                "significant": self.significant, **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AssetLift:
        return build(cls, d, status=MetricStatus.of(d))


@dataclass(frozen=True)
class SalesTouches:
    """Touches by a person before one moment (the first opportunity, the first won deal)."""

    before: str
    people: int
    median: float | None = None
    mean: float | None = None
    p90: float | None = None
    distribution: dict[str, int] = field(default_factory=dict)
    status: MetricStatus = OK

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "people": self.people, "median": self.median, "mean": self.mean,
                "p90": self.p90, "distribution": dict(self.distribution), **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SalesTouches:
        return build(cls, d, distribution=dict(d.get("distribution") or {}), status=MetricStatus.of(d))


def content_lift(touches: ir.Table, ms: ir.Table, marks: list[Milestone], min_n: int) -> list[AssetLift]:
    """Every milestone x top asset's lift (see the module docstring); [] when no touch carries an asset."""
    c = touches.filter(touches.asset.notnull() & ~touches.kind.isin(list(NOT_CONSUMED))
                       & (touches.actor.isnull() | (touches.actor != HUMAN)))
    per = c.group_by(["asset", "person_id"]).aggregate(first_at=c.occurred_at.min())
    # every asset counted, the top ones kept after: picking them first read the touches twice (on Spark a
    # second scan and aggregation of every touch; the people are the selection's, each in ``ms`` once)
    j = per.join(ms, per.person_id == ms.person_id)
    sums: dict[str, ir.Value] = {}
    totals: dict[str, ir.Value] = {}
    for i, m in enumerate(marks):
        at, has = j[m.at], j[m.reached]
        sums[f"c{i}"] = (has & at.notnull() & (j.first_at <= at)).sum()
        sums[f"n{i}"] = (~has).sum()
        totals[f"c{i}"] = (ms[m.reached] & ms[m.at].notnull()).sum()
        totals[f"n{i}"] = (~ms[m.reached]).sum()
    by_asset = j.group_by("asset").aggregate(people=j.count(), **sums)
    top = by_asset.order_by([ibis.desc("people"), "asset"]).limit(TOP_ASSETS)
    rows = sorted(fetch_rows(top), key=lambda r: r["asset"])
    if not rows:
        return []
    total = {k: int(v or 0) for k, v in fetch_rows(ms.aggregate(**totals))[0].items()}
    out: list[AssetLift] = []
    for i, m in enumerate(marks):
        part = [_lift(str(r["asset"]), m.label, total[f"c{i}"], int(r[f"c{i}"] or 0), total[f"n{i}"],
                      int(r[f"n{i}"] or 0), min_n) for r in rows]
        tested = [(k, p) for k, (a, p) in enumerate(part) if p is not None]
        for (k, _), p_adj in zip(tested, holm([p for _, p in tested]), strict=True):
            a = part[k][0]
            part[k] = (replace(a, p_adjusted=p_adj, significant=p_adj < ALPHA), None)
        out += sorted((a for a, _ in part), key=lambda a: (-(a.converted_consumed + a.never_consumed), a.asset))
    return out


def _lift(asset: str, label: str, n1: int, k1: int, n2: int, k2: int, min_n: int) -> tuple[AssetLift, float | None]:
    """The lift of one asset at one milestone, and its p before correction (None: not tested)."""
    row = AssetLift(asset, label, n1, k1, n2, k2)
    if not n1 or not n2:
        return replace(row, status=withheld(f"nobody reached {label}" if not n1 else f"everyone reached {label}")), None
    if k1 + k2 == 0:
        return replace(row, status=withheld("nobody consumed it")), None
    # Katz log interval; a zero cell gets 0.5 added to each cell (Haldane)
    a, b, c, d = (k1, n1 - k1, k2, n2 - k2) if k1 and k2 else (k1 + 0.5, n1 - k1 + 0.5, k2 + 0.5, n2 - k2 + 0.5)
    ratio = (a / (a + b)) / (c / (c + d))
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    low, high = ratio * math.exp(-Z95 * se), ratio * math.exp(Z95 * se)
    row = replace(row, lift=ratio, ci_low=low, ci_high=high)
    if min(n1, n2) < min_n:
        return replace(row, status=too_few(min(n1, n2), min_n)), None
    if se == 0:  # everyone in both groups consumed it: nothing to test
        return row, None
    p = math.erfc(abs(math.log(ratio)) / se / math.sqrt(2))
    return row, p


def sales_touches(touches: ir.Table, ms: ir.Table, min_n: int, has_opportunities: bool) -> list[SalesTouches]:
    """Touches by a person before the first opportunity and before the first won deal (both, with their
    distributions, in one query)."""
    moments = (("opportunity", "opp_at"), ("closed-won", "won_at"))
    if not has_opportunities:
        return [SalesTouches(label, 0, status=withheld(NO_OPPORTUNITIES)) for label, _ in moments]
    human = touches.filter(touches.actor == HUMAN).select("person_id", "occurred_at")
    who = ms.filter(ms.opp_at.notnull() | ms.won_at.notnull()).select("person_id", "opp_at", "won_at")
    j = who.left_join(human, who.person_id == human.person_id)
    per = j.group_by([j.person_id, j.opp_at, j.won_at]).aggregate(
        **{f"n_{column}": (j.occurred_at <= j[column]).sum() for _, column in moments})
    sums: dict[str, ir.Value] = {}
    # quantile(0.5), not median: Ibis writes Spark's median with a condition as a percentile whose fraction is
    # not a constant, which Spark refuses; both are the interpolated middle on DuckDB and Postgres
    for _, column in moments:
        n, has = per[f"n_{column}"].fill_null(0), per[column].notnull()
        sums |= {f"{column}_people": has.sum(), f"{column}_median": n.quantile(0.5, where=has),
                 f"{column}_mean": n.mean(where=has), f"{column}_p90": n.quantile(0.9, where=has),
                 **bucket_sums(n, TOUCH_BUCKETS, f"{column}_b", where=has)}
    top = fetch_rows(per.aggregate(**sums))[0]
    out = []
    for label, column in moments:
        n = int(top[f"{column}_people"] or 0)
        if not n:
            reason = "nobody has a dated opportunity" if label == "opportunity" else "nobody has a dated won deal"
            out.append(SalesTouches(label, 0, status=withheld(reason)))
            continue
        out.append(SalesTouches(label, n, _float(top[f"{column}_median"]), _float(top[f"{column}_mean"]),
                                _float(top[f"{column}_p90"]), bucket_counts(top, TOUCH_BUCKETS, f"{column}_b"),
                                for_count(n, min_n)))
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _status(status: MetricStatus) -> dict[str, Any]:
    return {"status": status.status.value, "status_reason": status.reason}
