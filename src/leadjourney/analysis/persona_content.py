"""A persona's content journey: the content assets and landing pages its people consumed most before each milestone.

Per persona and milestone (MQL, SQL, won: :func:`~leadjourney.analysis.marketing.conversion_milestones`), of the
persona's people who reached it (dated), how many consumed each asset before it (a touch carrying the asset that
is no mere e-mail send, delivery or open and no rep's touch, as :mod:`leadjourney.analysis.content` counts it) and
landed on each page in a web visit that started before it (stitched visits, ``web_visits``); the :data:`TOP` of
each kind. A milestone fewer than ``[analysis] min_n`` of the persona's people reached is withheld with the
reason (no items listed): a handful of people's reading is no journey, and small groups are easier to recognise.
Counted in the engine: one grouped query for every milestone (and one for who reached them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import TableNotFound

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.marketing import HUMAN, NOT_CONSUMED, conversion_milestones, milestones
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.engine import fetch_rows

TOP = 3  # items per kind, persona and milestone
CONTENT, LANDING = "content", "landing page"
NOTHING = ("no touchpoint carries a consumed asset and no web visit is stitched to a person: no content journey "
           "to show")


@dataclass(frozen=True)
class ConsumedBefore:
    kind: str  # "content" or "landing page"
    item: str
    people: int  # of those who reached the milestone, consumed it before
    share: float | None  # of those who reached it


@dataclass(frozen=True)
class ContentJourney:
    """What one persona's people consumed before one milestone."""

    milestone: str
    reached: int  # the persona's people who reached it (dated)
    items: tuple[ConsumedBefore, ...] = ()
    status: MetricStatus = OK

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "reached": self.reached,
                "items": [asdict(i) for i in self.items], "status": self.status.status.value,
                "status_reason": self.status.reason}


def content_journeys(journeys: Journeys, people: ir.Table, min_n: int,
                     top: int = TOP) -> tuple[dict[str, list[ContentJourney]], MetricStatus]:
    """{persona: [ContentJourney per milestone]} and the status of the whole (withheld without any data).
    ``people``: person_id and persona of the selection (:func:`persona_profiles.person_table`)."""
    events = _consumed(journeys)
    if events is None:
        return {}, withheld(NOTHING)
    first = events.group_by(["person_id", "kind", "item"]).aggregate(first_at=events.at.min())
    ms = journeys.cached("campaign_milestones", lambda: milestones(journeys))
    who = ms.join(people.select("person_id", "persona"), "person_id")
    marks = conversion_milestones(journeys.config.stage_names)
    reached = {f"n{i}": (who[m.reached] & who[m.at].notnull()).sum() for i, m in enumerate(marks)}
    sizes = {r["persona"]: r for r in fetch_rows(who.group_by("persona").aggregate(**reached))}
    j = first.join(who, "person_id")
    counts = j.group_by(["persona", "kind", "item"]).aggregate(**{
        f"c{i}": (j[m.reached] & j[m.at].notnull() & (j.first_at <= j[m.at])).sum() for i, m in enumerate(marks)})
    ranks = {f"r{i}": ibis.row_number().over(group_by=["persona", "kind"], order_by=[ibis.desc(f"c{i}"), "item"])
             for i in range(len(marks))}
    ranked = counts.mutate(**ranks)
    rows = fetch_rows(ranked.filter(ibis.or_(*[(ranked[f"r{i}"] < top) & (ranked[f"c{i}"] > 0)
                                              for i in range(len(marks))])))
    personas = sorted(str(r["persona"]) for r in fetch_rows(people.select("persona").distinct()))
    out: dict[str, list[ContentJourney]] = {}
    for i, m in enumerate(marks):
        items: dict[str, list[ConsumedBefore]] = {}
        chosen = [r for r in rows if r[f"r{i}"] < top and r[f"c{i}"]]
        for row in sorted(chosen, key=lambda x: (str(x["persona"]), x["kind"] != CONTENT, x[f"r{i}"])):
            n = int(sizes[row["persona"]][f"n{i}"] or 0)
            k = int(row[f"c{i}"])
            items.setdefault(row["persona"], []).append(ConsumedBefore(row["kind"], str(row["item"]), k, k / n))
        for name in personas:
            n = int((sizes.get(name) or {}).get(f"n{i}") or 0)
            if n < min_n:
                reason = (f"nobody of this persona reached {m.label}" if not n else
                          f"{n:,} of this persona reached {m.label}, fewer than min_n = {min_n}")
                out.setdefault(name, []).append(ContentJourney(m.label, n, (), withheld(reason)))
            else:
                out.setdefault(name, []).append(ContentJourney(m.label, n, tuple(items.get(name, ()))))
    return out, OK


def _consumed(journeys: Journeys) -> ir.Table | None:
    """The selected people's consumed assets and landing pages up to the as-of date: person_id, kind, item, at;
    None when there are none."""
    people = journeys.people().select("person_id")
    cut = ibis.timestamp(journeys.as_of())
    parts = []
    t = journeys.table("touchpoints")
    t = t.filter(t.asset.notnull() & (t.asset.strip() != "") & ~t.kind.isin(list(NOT_CONSUMED))
                 & (t.actor.isnull() | (t.actor != HUMAN)) & (t.occurred_at <= cut))
    t = t.join(journeys.table("leads").select("lead_id", "person_id"), "lead_id").semi_join(people, "person_id")
    parts.append(t.select("person_id", kind=ibis.literal(CONTENT), item=t.asset.strip(), at=t.occurred_at))
    try:
        v = journeys.backend.table("web_visits")
    except TableNotFound:
        v = None
    if v is not None:
        v = v.filter(v.person_id.notnull() & v.landing_page.notnull() & (v.started_at <= cut))
        v = v.semi_join(people, "person_id")
        parts.append(v.select("person_id", kind=ibis.literal(LANDING), item=v.landing_page, at=v.started_at))
    union = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    return union if fetch_rows(union.limit(1)) else None
