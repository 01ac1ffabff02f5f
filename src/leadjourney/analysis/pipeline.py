"""Pipeline: the selection's open deals and their amounts as of the as-of date.

An opportunity is *open* at the as-of date when it was created by then (or has no created date), is not
won, and has no close date or closes after the as-of date; only opportunities with an amount count. Its
person is its lead's person, so a merged duplicate's deal counts once, for the person. Bookings (the won
deals' amounts) are :attr:`leadjourney.analysis.friction.Friction.won_amount`, counted once there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.readback import build
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.engine import fetch_rows
from leadjourney.tabular import Tabular

NO_OPPORTUNITIES = "needs opportunities; none loaded"


def open_per_person(journeys: Journeys, as_of: datetime) -> ir.Table:
    """person_id, open_deals, open_amount: the open opportunities with an amount per selected person."""
    opps = journeys.table("opportunities")
    leads = journeys.table("leads").select("lead_id", "person_id")
    at = ibis.timestamp(as_of)
    is_open = (opps.amount.notnull() & ~opps.is_won.fill_null(False)
               & (opps.created_at.isnull() | (opps.created_at <= at))
               & (opps.closed_at.isnull() | (opps.closed_at > at)))
    deals = opps.filter(is_open).join(leads, "lead_id").semi_join(journeys.people().select("person_id"),
                                                                  "person_id")
    return deals.group_by("person_id").aggregate(open_deals=deals.count(), open_amount=deals.amount.sum())


def open_by(journeys: Journeys, keys: Sequence[str], as_of: datetime) -> ir.Table:
    """``keys`` (columns of the people), open_deals, open_amount: :func:`open_per_person` summed per segment."""
    people = journeys.people().select("person_id", *keys)
    joined = people.join(open_per_person(journeys, as_of), "person_id")
    return joined.group_by(list(keys)).aggregate(open_deals=joined.open_deals.sum(),
                                                 open_amount=joined.open_amount.sum())


@dataclass
class Pipeline(Tabular):
    """Open deals (with an amount) of the selected people at ``as_of``, and their amounts' sum (its table:
    one row).

    ``status`` is withheld when no opportunities were loaded (no pipeline to speak of, not a zero one).
    """

    status: MetricStatus = OK
    as_of: datetime | None = None
    currency: str = ""
    open_deals: int = 0
    open_amount: float = 0.0

    def fit(self, journeys: Journeys) -> Pipeline:
        self.as_of = self.as_of or journeys.as_of()
        self.currency = journeys.config.currency
        opps = journeys.table("opportunities")
        if not fetch_rows(opps.select("opportunity_id").limit(1)):
            self.status = withheld(NO_OPPORTUNITIES)
            return self
        per_person = open_per_person(journeys, self.as_of)
        row = fetch_rows(per_person.aggregate(n=per_person.open_deals.sum(), total=per_person.open_amount.sum()))[0]
        self.open_deals, self.open_amount = int(row["n"] or 0), float(row["total"] or 0.0)
        self.status = OK
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.status.value, "status_reason": self.status.reason,
                "as_of": None if self.as_of is None else self.as_of.isoformat(), "currency": self.currency,
                "open_deals": self.open_deals, "open_amount": self.open_amount}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Pipeline:
        as_of = d.get("as_of")
        return build(cls, d, status=MetricStatus.of(d), as_of=None if as_of is None else datetime.fromisoformat(as_of))
