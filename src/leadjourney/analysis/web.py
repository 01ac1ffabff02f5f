"""The web journey before the form: landing pages, pages and visits before each milestone, visit duration,
where anonymous visitors leave, and which traffic sources bring people who buy.

Reads the visits ingest derives (``web_visits``, ``web_stitches``: :mod:`leadjourney.ingest.web_visits`)
and the selected people (:meth:`Journeys.people`). Everything is counted in the engine; Python only
touches aggregated rows. Rates are :class:`~leadjourney.analysis.rates.Transition` s (Wilson interval,
``[analysis] min_n``); each part is withheld with its reason when its input is missing: no web sessions
loaded, nobody stitched, a selection (anonymous visitors belong to none).

* **Landing pages**: visits landing on each page -> visits with a form fill -> form-filling visits whose
  person reached the second stage (MQL); a page whose visit-to-form rate is significantly below the other
  pages' (two-proportion z-test, Holm-corrected over the pages tested) is flagged ``worse``.
* **Before each milestone**: per stitched person who reached it, the visits started at or before the
  milestone (their first form-filling visit's end, or their first entry into each stage) and the pages
  viewed in them: median and distribution.
* **Visit duration**: first to last event of a visit (a one-page visit lasts 0 s).
* **Exit pages** of visitors never identified: the last page of their visits.
* **Traffic source quality**: each stitched person's first visit's source / medium, and how many of
  those people reached SQL and were won.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import TableNotFound

from leadjourney.analysis.journeys import Filters, Journeys
from leadjourney.analysis.rates import StageCount, Transition, transition_between
from leadjourney.analysis.readback import build
from leadjourney.analysis.sources import holm, two_proportion_z
from leadjourney.analysis.status import OK, MetricStatus, for_count, withheld
from leadjourney.display import percent
from leadjourney.engine import fetch_rows, fetch_value
from leadjourney.escape import markdown_text as md
from leadjourney.quality.web import WebStitching, web_stitching
from leadjourney.tabular import Tabular

ALPHA = 0.05
TOP = 15  # rows shown per table (every page is tested)
# (label, upper bound inclusive); the last is open-ended
COUNT_BUCKETS: tuple[tuple[str, int | None], ...] = (("0", 0), ("1", 1), ("2", 2), ("3-5", 5), ("6-10", 10),
                                                     ("11+", None))
DURATION_BUCKETS: tuple[tuple[str, int | None], ...] = (("0 s (one event)", 0), ("1-10 s", 10), ("11-60 s", 60),
                                                        ("1-3 min", 180), ("3-10 min", 600), ("10-30 min", 1800),
                                                        ("30+ min", None))
NO_WEB = "no web sessions loaded (a ga4_bigquery source, or a csv/parquet source with table = \"web_sessions\")"
NOTHING_STITCHED = ("no web visitor is stitched to a person (no visitor_id on leads or touchpoints, no logged-in "
                    "user id matching a lead's e-mail)")
SELECTION = "computed for the whole workspace only: anonymous visitors belong to no selection"


@dataclass(frozen=True)
class LandingPage:
    page: str
    visits: int
    to_form: Transition  # visits -> visits with a form fill
    to_mql: Transition  # visits with a form fill -> whose person reached the second stage
    worse: bool = False  # visit-to-form rate significantly below the other pages'
    p_adjusted: float | None = None  # Holm-adjusted p of the test against the other pages

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "visits": self.visits, "to_form": self.to_form.to_dict(),
                "to_mql": self.to_mql.to_dict(), "worse": self.worse, "p_adjusted": self.p_adjusted}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LandingPage:
        return build(cls, d, to_form=Transition.from_dict(d["to_form"]), to_mql=Transition.from_dict(d["to_mql"]))


@dataclass(frozen=True)
class Milestone:
    """Visits and pages of stitched people up to a milestone (first form fill, or a stage)."""

    milestone: str
    people: int
    median_visits: float | None
    median_pages: float | None
    p90_pages: float | None
    visits: dict[str, int]  # distribution over COUNT_BUCKETS
    pages: dict[str, int]
    status: MetricStatus = OK

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "people": self.people, "median_visits": self.median_visits,
                "median_pages": self.median_pages, "p90_pages": self.p90_pages, "visits": dict(self.visits),
                "pages": dict(self.pages), **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Milestone:
        return build(cls, d, status=MetricStatus.of(d), visits=dict(d.get("visits") or {}),
                     pages=dict(d.get("pages") or {}))


@dataclass(frozen=True)
class Duration:
    visits: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    one_page_share: float | None = None  # visits with a single page view
    distribution: dict[str, int] = field(default_factory=dict)
    status: MetricStatus = OK

    def to_dict(self) -> dict[str, Any]:
        return {"visits": self.visits, "median_seconds": self.median_seconds, "p90_seconds": self.p90_seconds,
                "one_page_share": self.one_page_share, "distribution": dict(self.distribution),
                **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Duration:
        return build(cls, d, status=MetricStatus.of(d), distribution=dict(d.get("distribution") or {}))


@dataclass(frozen=True)
class ExitPage:
    page: str
    visits: int
    share: float  # of the anonymous visitors' visits

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "visits": self.visits, "share": self.share}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExitPage:
        return build(cls, d)


@dataclass(frozen=True)
class TrafficSource:
    source: str
    medium: str
    visits: int  # every visit from it, anonymous ones included
    visitors: int
    to_sql: Transition  # people whose first visit came from it -> reached SQL
    to_won: Transition  # ... -> won a deal

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "medium": self.medium, "visits": self.visits, "visitors": self.visitors,
                "to_sql": self.to_sql.to_dict(), "to_won": self.to_won.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrafficSource:
        return build(cls, d, to_sql=Transition.from_dict(d["to_sql"]), to_won=Transition.from_dict(d["to_won"]))


def _status(status: MetricStatus) -> dict[str, Any]:
    return {"status": status.status.value, "status_reason": status.reason}


def _part_status(d: Mapping[str, Any], key: str) -> MetricStatus:
    part = d.get(key) or {}
    return MetricStatus.of(part)


@dataclass
class WebJourney(Tabular):
    """The web half of the journey for the workspace (see the module docstring). Its table
    (``to_arrow()`` / ``to_pandas()``) is the landing pages.

    >>> web = WebJourney().fit(journeys)        # doctest: +SKIP
    >>> web.landing_pages[0].to_form.rate       # doctest: +SKIP
    0.21
    """

    table_from = "landing_pages"

    status: MetricStatus = field(default_factory=lambda: withheld(NO_WEB))
    stitching: WebStitching = field(default_factory=WebStitching)
    stitched: Transition | None = None  # visitors -> visitors stitched to a person (rate with its interval)
    mql_stage: str | None = None
    sql_stage: str | None = None
    landing_pages: list[LandingPage] = field(default_factory=list)
    landing_status: MetricStatus = OK
    before: list[Milestone] = field(default_factory=list)
    before_status: MetricStatus = OK
    duration: Duration = field(default_factory=Duration)
    exit_pages: list[ExitPage] = field(default_factory=list)
    exit_status: MetricStatus = OK
    traffic_sources: list[TrafficSource] = field(default_factory=list)
    sources_status: MetricStatus = OK

    @property
    def has_data(self) -> bool:
        return self.stitching.visits > 0

    def fit(self, journeys: Journeys) -> WebJourney:
        backend = journeys.backend
        try:
            visits = backend.table("web_visits")
        except TableNotFound:  # a workspace not ingested since web sessions existed
            return self
        if not fetch_value(visits.count()):
            return self
        self.stitching = web_stitching(backend)
        if journeys.filters != Filters():
            self.status = withheld(SELECTION)
            return self
        self.status = OK
        min_n = journeys.config.min_n
        s = self.stitching
        self.stitched = _counted(transition_between(StageCount("visitors", "", s.visitors, 0),
                                                    StageCount("stitched", "", s.stitched_visitors, 0), min_n),
                                 min_n, "visitors")
        names = journeys.config.stage_names
        self.mql_stage = names[1] if len(names) > 1 else None
        sql = names.index("SQL") if "SQL" in names else (2 if len(names) > 2 else None)
        self.sql_stage = names[sql] if sql is not None else None
        people = journeys.people()
        self._landing(visits, people, min_n)
        self._duration(visits, min_n)
        self._exits(visits, min_n)
        if not s.stitched_visitors:
            self.before_status = self.sources_status = withheld(NOTHING_STITCHED)
            return self
        self._before(visits, people, names, min_n)
        self._sources(visits, people, sql, min_n)
        return self

    def _landing(self, visits: ir.Table, people: ir.Table, min_n: int) -> None:
        v = visits.filter(visits.landing_page.notnull())
        if self.mql_stage is not None and self.stitching.stitched_visitors:
            reached = people.select("person_id", mql=people.has_1)
            v = v.left_join(reached, v.person_id == reached.person_id).select(v, reached.mql)
            mql = (v.form_fill & v.mql.fill_null(False)).sum()
        else:
            mql = ibis.literal(0)
        rows = fetch_rows(v.group_by(page=v.landing_page).aggregate(
            visits=v.count(), forms=v.form_fill.sum(), mql=mql).order_by([ibis.desc("visits"), "page"]))
        total_v = sum(int(r["visits"]) for r in rows)
        total_f = sum(int(r["forms"] or 0) for r in rows)
        pages: list[LandingPage] = []
        tested: list[tuple[int, float, float]] = []
        for r in rows:
            n, k, m = int(r["visits"]), int(r["forms"] or 0), int(r["mql"] or 0)
            to_form = _counted(transition_between(StageCount(r["page"], "", n, 0), StageCount("form fill", "", k, 0),
                                                  min_n), min_n, "visits")
            if self.mql_stage is None or not self.stitching.stitched_visitors:
                to_mql = Transition("form fill", self.mql_stage or "-", k, 0, None, None, None,
                                    withheld(NOTHING_STITCHED if self.mql_stage else "no stage after the first has data"))
            else:
                to_mql = _counted(transition_between(StageCount("form fill", "", k, 0),
                                                     StageCount(self.mql_stage, "", m, 0), min_n),
                                  min_n, "visits with a form fill")
            page = LandingPage(r["page"], n, to_form, to_mql)
            if to_form.status.judged:
                z, p = two_proportion_z(k, n, total_f - k, total_v - n)
                if p is not None:
                    tested.append((len(pages), z, p))
            pages.append(page)
        for (i, z, _), p_adj in zip(tested, holm([p for _, _, p in tested]), strict=True):
            pages[i] = replace(pages[i], p_adjusted=p_adj, worse=z < 0 and p_adj < ALPHA)
        self.landing_pages = pages
        self.landing_status = for_count(total_v, min_n, "visits")

    def _duration(self, visits: ir.Table, min_n: int) -> None:
        secs = visits.duration_seconds
        top = fetch_rows(visits.aggregate(n=visits.count(), median=secs.median(), p90=secs.quantile(0.9),
                                          one_page=(visits.pageviews <= 1).sum(),
                                          **bucket_sums(secs, DURATION_BUCKETS, "d")))[0]
        n = int(top["n"])
        dist = bucket_counts(top, DURATION_BUCKETS, "d")
        self.duration = Duration(n, _num(top["median"]), _num(top["p90"]), int(top["one_page"] or 0) / n if n else None,
                                 dist, for_count(n, min_n, "visits"))

    def _exits(self, visits: ir.Table, min_n: int) -> None:
        anon = visits.filter(visits.person_id.isnull() & visits.exit_page.notnull())
        rows = fetch_rows(anon.group_by(page=anon.exit_page).aggregate(visits=anon.count())
                          .order_by([ibis.desc("visits"), "page"]))
        total = sum(int(r["visits"]) for r in rows)
        if not total:
            self.exit_status = withheld("every visitor was identified: no anonymous visits")
            return
        self.exit_pages = [ExitPage(r["page"], int(r["visits"]), int(r["visits"]) / total) for r in rows[:TOP]]
        self.exit_status = for_count(total, min_n, "anonymous visits")

    def _before(self, visits: ir.Table, people: ir.Table, names: Sequence[str], min_n: int) -> None:
        mine = visits.filter(visits.person_id.notnull())
        forms = mine.filter(mine.form_fill)
        first_form = forms.group_by("person_id").aggregate(first_form=forms.ended_at.min())
        p = people.select("person_id", *[f"at_{i}" for i in range(len(names))])
        p = p.left_join(first_form, p.person_id == first_form.person_id).select(p, first_form.first_form)
        joined = mine.join(p, mine.person_id == p.person_id).select(mine.person_id, mine.started_at, mine.pageviews,
                                                                    *[p[c] for c in p.columns if c != "person_id"])
        moments = [("first form fill", "first_form"), *[(name, f"at_{i}") for i, name in enumerate(names)]]
        # every moment in one query: per person, the visits and pages up to each moment they reached
        per = joined.group_by("person_id").aggregate(**{
            f: agg for k, (_, column) in enumerate(moments)
            for f, agg in ((f"has{k}", joined[column].max().notnull()),
                           (f"v{k}", (joined.started_at <= joined[column]).sum()),
                           (f"p{k}", joined.pageviews.sum(where=joined.started_at <= joined[column])))})
        sums: dict[str, ir.Value] = {}
        for k in range(len(moments)):
            has, visits_k, pages_k = per[f"has{k}"], per[f"v{k}"], per[f"p{k}"].fill_null(0)
            sums |= {f"n{k}": has.sum(), f"mv{k}": visits_k.quantile(0.5, where=has),
                     f"mp{k}": pages_k.quantile(0.5, where=has),  # not median(where=): Spark refuses it
                     f"p90_{k}": pages_k.quantile(0.9, where=has),
                     **bucket_sums(visits_k, COUNT_BUCKETS, f"v{k}_", where=has),
                     **bucket_sums(pages_k, COUNT_BUCKETS, f"p{k}_", where=has)}
        top = fetch_rows(per.aggregate(**sums))[0]
        out = []
        for k, (label, _) in enumerate(moments):
            n = int(top[f"n{k}"] or 0)
            out.append(Milestone(label, n, _num(top[f"mv{k}"]), _num(top[f"mp{k}"]), _num(top[f"p90_{k}"]),
                                 bucket_counts(top, COUNT_BUCKETS, f"v{k}_") if n else {},
                                 bucket_counts(top, COUNT_BUCKETS, f"p{k}_") if n else {},
                                 for_count(n, min_n, "stitched people")))
        self.before = out
        self.before_status = OK

    def _sources(self, visits: ir.Table, people: ir.Table, sql: int | None, min_n: int) -> None:
        every = fetch_rows(visits.group_by(["source", "medium"]).aggregate(
            visits=visits.count(), visitors=visits.visitor_id.nunique()))
        mine = visits.filter(visits.person_id.notnull())
        # each person's first visit, its source with its own medium: of visits starting at one instant, the same
        # one on every engine and run (by visitor and session), not whichever each aggregate met first
        order = ibis.window(group_by="person_id", order_by=["started_at", "visitor_id", "session_key"])
        ranked = mine.select("person_id", "source", "medium", rank=ibis.row_number().over(order))
        first = ranked.filter(ranked["rank"] == 0).drop("rank")
        reached = people.select("person_id", reached_sql=people[f"has_{sql}"] if sql is not None else ibis.literal(False),
                                won_deal=people.won_deals.fill_null(0) > 0)
        j = first.join(reached, first.person_id == reached.person_id)
        rows = fetch_rows(j.group_by(["source", "medium"]).aggregate(
            people=j.count(), sql=j.reached_sql.sum(), won=j.won_deal.sum()))
        by = {(r["source"], r["medium"]): r for r in rows}
        out = []
        for r in sorted(every, key=lambda r: (-int(r["visits"]), str(r["source"]), str(r["medium"]))):
            got = by.get((r["source"], r["medium"]), {})
            n = int(got.get("people") or 0)
            label = f"{r['source']} / {r['medium']}"
            start = StageCount(label, "", n, 0)
            if sql is None:
                to_sql = Transition(label, "SQL", n, 0, None, None, None, withheld("no SQL stage configured"))
            else:
                to_sql = transition_between(start, StageCount(self.sql_stage or "SQL", "", int(got.get("sql") or 0), 0),
                                            min_n)
            to_won = transition_between(start, StageCount("won", "", int(got.get("won") or 0), 0), min_n)
            if n == 0:
                reason = "no stitched person's first visit came from it"
                to_sql = replace(to_sql, status=withheld(reason))
                to_won = replace(to_won, status=withheld(reason))
            out.append(TrafficSource(r["source"], r["medium"], int(r["visits"]), int(r["visitors"]), to_sql, to_won))
        self.traffic_sources = out
        self.sources_status = for_count(sum(t.to_won.entered for t in out), min_n, "stitched people")

    # ------------------------------------------------------------------------------------------ renderers

    def to_dict(self) -> dict[str, Any]:
        return {
            **_status(self.status),
            "stitching": self.stitching.to_dict(),
            "stitched": self.stitched.to_dict() if self.stitched else None,
            "mql_stage": self.mql_stage, "sql_stage": self.sql_stage,
            "landing_pages": {**_status(self.landing_status), "rows": [p.to_dict() for p in self.landing_pages]},
            "before": {**_status(self.before_status), "rows": [m.to_dict() for m in self.before]},
            "duration": self.duration.to_dict(),
            "exit_pages": {**_status(self.exit_status), "rows": [e.to_dict() for e in self.exit_pages]},
            "traffic_sources": {**_status(self.sources_status), "rows": [t.to_dict() for t in self.traffic_sources]},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WebJourney:
        def rows(key: str) -> list[Any]:
            return list((d.get(key) or {}).get("rows") or ())

        stitched = d.get("stitched")
        return cls(
            status=MetricStatus.of(d), stitching=WebStitching.from_dict(d.get("stitching") or {}),
            stitched=Transition.from_dict(stitched) if stitched else None,
            mql_stage=d.get("mql_stage"), sql_stage=d.get("sql_stage"),
            landing_pages=[LandingPage.from_dict(r) for r in rows("landing_pages")],
            landing_status=_part_status(d, "landing_pages"),
            before=[Milestone.from_dict(r) for r in rows("before")], before_status=_part_status(d, "before"),
            duration=Duration.from_dict(d.get("duration") or {}),
            exit_pages=[ExitPage.from_dict(r) for r in rows("exit_pages")], exit_status=_part_status(d, "exit_pages"),
            traffic_sources=[TrafficSource.from_dict(r) for r in rows("traffic_sources")],
            sources_status=_part_status(d, "traffic_sources"),
        )

    def to_markdown(self) -> list[str]:
        """The "Web journey" section of the analysis (lines)."""
        lines = ["", "## Web journey", ""]
        if not self.status.shown:
            return [*lines, f"Web journey {self.status.text()}."]
        lines.append(self.stitching.text())
        if self.stitched is not None:
            lines.append(f"Stitched share of visitors: {_rate(self.stitched)}.")
        lines += ["", "### Landing pages (visits → form fills → " + md(self.mql_stage or "-") + ")", ""]
        lines += _note(self.landing_status)
        lines += ["| Landing page | Visits | Form fills | Visit → form | 95% interval | Form → "
                  f"{md(self.mql_stage or '-')} | 95% interval | vs other pages |", "|---|---:|---:|---:|---|---:|---|---|"]
        for p in self.landing_pages[:TOP]:
            vs = "**converts worse**" if p.worse else (md(p.to_form.status.text()) or (
                "not significant" if p.p_adjusted is not None else "not tested"))
            lines.append(f"| {md(p.page)} | {p.visits:,} | {p.to_form.converted:,} | {percent(p.to_form.rate)} | "
                         f"{_ci(p.to_form)} | {percent(p.to_mql.rate)} | {_ci(p.to_mql)} | {vs} |")
        worse = [p.page for p in self.landing_pages if p.worse]
        if worse:
            lines += ["", "Converting significantly worse than the other pages (two-proportion z-test, Holm-corrected): "
                      + ", ".join(md(w) for w in worse) + "."]
        lines += ["", "### Visits and pages before each milestone (stitched people)", ""]
        lines += _note(self.before_status)
        if self.before_status.shown:
            lines += ["| Milestone | People | Median visits | Median pages | p90 pages | Pages: " +
                      " / ".join(b for b, _ in COUNT_BUCKETS) + " | Note |", "|---|---:|---:|---:|---:|---|---|"]
            for m in self.before:
                dist = " / ".join(f"{m.pages.get(b, 0):,}" for b, _ in COUNT_BUCKETS)
                lines.append(f"| {md(m.milestone)} | {m.people:,} | {_num_text(m.median_visits)} | "
                             f"{_num_text(m.median_pages)} | {_num_text(m.p90_pages)} | {dist} | {md(m.status.text())} |")
        d = self.duration
        lines += ["", "### Visit duration", ""]
        lines += _note(d.status)
        if d.visits:
            one = "-" if d.one_page_share is None else f"{d.one_page_share:.1%}"
            lines.append(f"{d.visits:,} visits: median {_seconds(d.median_seconds)}, p90 {_seconds(d.p90_seconds)}; "
                         f"one-page visits {one} (they last 0 s). "
                         + "; ".join(f"{k}: {n:,}" for k, n in d.distribution.items()) + ".")
        lines += ["", "### Exit pages of visitors never identified", ""]
        lines += _note(self.exit_status)
        if self.exit_pages:
            lines += ["| Exit page | Visits | Share |", "|---|---:|---:|"]
            lines += [f"| {md(e.page)} | {e.visits:,} | {e.share:.1%} |" for e in self.exit_pages]
        lines += ["", f"### Traffic source quality (first visit's source / medium → {md(self.sql_stage or 'SQL')}, won)",
                  ""]
        lines += _note(self.sources_status)
        if self.sources_status.shown:
            lines += ["| Source / medium | Visits | Visitors | People | → SQL | 95% interval | → won | 95% interval | "
                      "Note |", "|---|---:|---:|---:|---:|---|---:|---|---|"]
            for t in self.traffic_sources[:TOP]:
                lines.append(f"| {md(t.source)} / {md(t.medium)} | {t.visits:,} | {t.visitors:,} | {t.to_won.entered:,} | "
                             f"{percent(t.to_sql.rate)} | {_ci(t.to_sql)} | {percent(t.to_won.rate)} | {_ci(t.to_won)} | "
                             f"{md(t.to_won.status.text())} |")
        return lines


def bucket_sums(value: ir.NumericValue, buckets: Sequence[tuple[str, int | None]], prefix: str,
                where: ir.BooleanValue | None = None) -> dict[str, ir.Value]:
    """Aggregates counting ``value`` per bucket (label, inclusive upper bound; None: open), named ``prefix`` +
    the bucket's position, for one query to count several distributions (:func:`bucket_counts` reads them)."""
    case = ibis.cases(*[(value <= bound, label) for label, bound in buckets if bound is not None],
                      else_=buckets[-1][0])
    return {f"{prefix}{i}": (case == label).sum() if where is None else (where & (case == label)).sum()
            for i, (label, _) in enumerate(buckets)}


def bucket_counts(row: Mapping[str, Any], buckets: Sequence[tuple[str, int | None]], prefix: str) -> dict[str, int]:
    """The distribution :func:`bucket_sums` counted, from the result row: label -> count."""
    return {label: int(row[f"{prefix}{i}"] or 0) for i, (label, _) in enumerate(buckets)}


def _counted(t: Transition, min_n: int, what: str) -> Transition:
    """``t`` with its status counted in ``what`` (visits, visitors) instead of people; withheld stays withheld."""
    return t if not t.status.shown else replace(t, status=for_count(t.entered, min_n, what))


def _num(value: Any) -> float | None:
    return None if value is None else float(value)



def _ci(t: Transition) -> str:
    return "-" if t.ci_low is None or t.ci_high is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"


def _rate(t: Transition) -> str:
    note = f" ({t.status.text()})" if t.status.text() else ""
    return f"{percent(t.rate)} ({_ci(t)}){note}"


def _num_text(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def _note(status: MetricStatus) -> list[str]:
    return [f"{status.text().capitalize()}.", ""] if status.text() else []
