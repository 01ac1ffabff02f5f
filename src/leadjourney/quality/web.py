"""How much of the web traffic is tied to people: the stitching rate of web visitors.

One computation (Ibis over ``web_visits`` and ``web_stitches``, see
:mod:`leadjourney.ingest.web_visits`), read by ``leadjourney quality`` and by the web journey analysis
(which adds the rate's interval, :mod:`leadjourney.analysis.web`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import ibis

from leadjourney.engine import fetch_rows


@dataclass(frozen=True)
class WebStitching:
    """Web visitors, how many were identified as a person (and how), and the people with web visits."""

    visitors: int = 0
    visits: int = 0
    stitched_visitors: int = 0
    stitched_visits: int = 0
    people: int = 0  # distinct people with at least one stitched visitor
    rate: float | None = None  # stitched_visitors / visitors
    via: dict[str, int] = field(default_factory=dict)  # visitors by what identified them

    def text(self) -> str:
        if not self.visitors:
            return "Web sessions: none loaded."
        rate = "-" if self.rate is None else f"{self.rate:.1%}"
        how = ", ".join(f"{k} {n:,}" for k, n in self.via.items()) or "none"
        return (f"Web sessions: {self.visits:,} visits by {self.visitors:,} visitors; stitched to people: "
                f"{self.stitched_visitors:,} visitors = {rate} ({how}), {self.people:,} people; "
                f"the other visitors stay anonymous aggregates.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WebStitching:
        names = {f.name for f in fields(cls)} - {"via"}
        return cls(**{k: v for k, v in d.items() if k in names}, via=dict(d.get("via") or {}))


def web_stitching(backend: ibis.BaseBackend) -> WebStitching:
    """The stitching figures of the workspace (all zero when no web sessions are loaded)."""
    visits = backend.table("web_visits")
    stitches = backend.table("web_stitches")
    per_visitor = visits.group_by("visitor_id").aggregate(n_visits=visits.count(),
                                                          stitched=visits.person_id.notnull().any())
    totals = fetch_rows(per_visitor.aggregate(
        visitors=per_visitor.count(),
        visits=per_visitor.n_visits.sum(),
        stitched_visitors=per_visitor.stitched.sum(),
        stitched_visits=per_visitor.n_visits.sum(where=per_visitor.stitched),
    ))[0]
    seen = stitches.semi_join(visits, "visitor_id")
    # the visitors by what identified them and the distinct people, in one query (the engine joins the
    # stitches to the visits once: each part read alone joined them again, a scan of every visit)
    by_via = seen.group_by("via").aggregate(n=seen.count(), people=ibis.literal(False))
    people_row = seen.aggregate(via=ibis.null("string"), n=seen.person_id.nunique(), people=ibis.literal(True))
    rows = fetch_rows(by_via.union(people_row, distinct=False))
    via = sorted((r for r in rows if not r["people"]), key=lambda r: (-int(r["n"]), str(r["via"])))
    people = next((r["n"] for r in rows if r["people"]), 0)
    n, k = int(totals["visitors"] or 0), int(totals["stitched_visitors"] or 0)
    return WebStitching(
        visitors=n, visits=int(totals["visits"] or 0), stitched_visitors=k,
        stitched_visits=int(totals["stitched_visits"] or 0), people=int(people or 0),
        rate=k / n if n else None,
        via={str(r["via"]): int(r["n"]) for r in via},
    )
