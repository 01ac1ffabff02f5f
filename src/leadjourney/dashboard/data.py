"""The dashboard's numbers: ``analyze(...)`` per filter selection, cached in memory and on disk.

Every number shown is an attribute of the selection's :class:`Analysis` or, for the drop-off trend, its
:class:`ConversionTrend`, kept as their JSON (``to_dict``) and loaded back (``from_dict``) for the page; the
period comparison's rows are computed here once per view (:mod:`.comparison`). This module only decides which
selections to analyze, keeps the results, and computes likely ones ahead of time:

* a result is keyed by its selection within a *generation* (last ingest, config, code), kept in memory
  (LRU) and as JSON in ``<workspace>/.dashboard-cache`` (:mod:`.cache`), so a restart is instant and
  new data shows on reload;
* the period comparison is like with like: the baseline snapshot's own period (its dates, ending at its
  as-of) restricted to the current selection's sources, personas and owners;
* :meth:`DashboardData.start_background` computes every single-filter selection after start, then every
  pair of filter values (of two filters, or two values of one), so one or two filter changes from the
  start are cache hits; a request interrupts the background's query in progress instead of waiting behind it;
* what a request may ask is bounded before anything is computed (:meth:`DashboardData.check`): known filter
  values only, at most :data:`MAX_VALUES_PER_FILTER` per filter; the caches in memory and on disk and the
  neighbours queued ahead (:data:`MAX_AHEAD`) are bounded too, so no stream of requests grows them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from leadjourney.analysis.benchmarks import Benchmark, benchmarks_in_effect
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.findings import latest_of_all_leads
from leadjourney.analysis.friction import Friction
from leadjourney.analysis.funnel import Funnel, counts_by, stage_columns
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.kpis import Tile, tiles
from leadjourney.analysis.pipeline import NO_OPPORTUNITIES, Pipeline, open_by
from leadjourney.analysis.report import Analysis, analyze_journeys
from leadjourney.analysis.selection import unknown
from leadjourney.analysis.sources import Sources
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.status import OK, withheld
from leadjourney.analysis.time_in_stage import TimeInStage
from leadjourney.analysis.trend import PERIODS, ConversionTrend
from leadjourney.backends import connect_backend
from leadjourney.config import UNASSIGNED_PERSONA
from leadjourney.dashboard.cache import (
    CACHE_DIR,
    DISK_BYTES,
    DISK_FILES,
    MEMORY_BYTES,
    DiskCache,
    MemoryCache,
    digest,
    json_size,
)
from leadjourney.dashboard.comparison import Delta, period_deltas
from leadjourney.db import one
from leadjourney.engine import fetch_rows
from leadjourney.errors import LeadJourneyError, SelectionError
from leadjourney.privacy import owner_pseudonym, pseudonym_salt
from leadjourney.workspace import Workspace

log = logging.getLogger(__name__)
DEFAULT_SLA_MINUTES = 5.0
SLA_TERM = "speed-to-lead sla"
SEGMENT_KEYS = ("source", "persona", "owner")  # the period comparison sums the baseline's counts over these
INTERRUPT_EVERY_SECONDS = 0.02  # a waiting request interrupts the background's current query this often
WARM_UP_SOURCE = "\x00warm-up"  # a source nobody has: warm_up's small selection
MAX_VALUES_PER_FILTER = 100  # values a request may select in one filter
MAX_VALUE_LENGTH = 200  # characters of one filter value a request may send
MAX_AHEAD = 64  # neighbours of the shown selection queued for the background at most
MAX_PERIODS = 16  # periods whose counts per segment are kept aside in memory (the baseline's, previous periods)
FUNNEL_ONLY = "the matched baseline is its funnel only"
NO_DATES = "no date range chosen: pick dates (or a quick range) to compare with the days before"
NO_BASELINE = "no baseline snapshot yet (store one with `leadjourney analyze --baseline`)"
MONEY_COLUMNS = ("won_deals", "won_amount", "open_deals", "open_amount")  # summed per segment beside the funnel


class _Interrupted(Exception):
    """A background computation stopped so that a request could go first."""


@dataclass(frozen=True)
class View:
    """What one filter selection shows: the analysis, the matched baseline, the comparison of the two and when
    data last arrived.

    ``baseline`` is the analysis of the baseline snapshot's period restricted to this selection's
    sources, personas and owners (see :meth:`DashboardData.baseline_selection`; its funnel only, unless the
    selection is the baseline's own); ``trend`` holds the :class:`ConversionTrend` per period (``"week"``,
    ``"month"``); ``comparison`` each transition against the baseline (:func:`.comparison.period_deltas`);
    ``benchmarks`` the config's benchmarks in effect, for the reference lines; ``previous`` the same segments
    over the days just before the selection's (its funnel, pipeline and bookings, summed like the baseline's);
    ``tiles`` the headline figures against both.
    """

    filters: Filters
    analysis: Analysis
    baseline: Analysis | None
    freshness: datetime | None
    sla_minutes: float
    trend: dict[str, ConversionTrend] = field(default_factory=dict)
    benchmarks: tuple[Benchmark, ...] = ()
    decline_points: float = 5.0  # [monitor] decline_points: red below the baseline (the monitor's rule)
    min_n: int = 30  # [analysis] min_n: fewer people is too few to judge
    comparison: tuple[Delta, ...] = ()
    previous: Analysis | None = None  # the period of the same length just before (dated selections only)
    tiles: tuple[Tile, ...] = ()  # the headline figures and their changes (:func:`leadjourney.analysis.kpis.tiles`)
    labels: Mapping[str, str] = field(default_factory=dict)  # [labels]: the names people read


@dataclass(frozen=True)
class Owner:
    """An owner as the page shows it: ``key`` (a pseudonym, or the name with ``[privacy] show_owners``)."""

    key: str
    owners: tuple[str, ...]  # the values in leads.owner it stands for (more than one only if pseudonyms collide)
    people: int


@dataclass(frozen=True)
class State:
    """What decides whether cached numbers still hold: the last ingest and the baseline snapshot."""

    freshness: datetime | None
    baseline_filters: Filters | None
    baseline_as_of: datetime | None
    baseline_id: int | None = None


def selection_analysis(journeys: Journeys, workspace: str) -> Analysis:
    """A selection's analysis as the dashboard shows it: the campaign analyses are `analyze`'s (withheld here)."""
    return analyze_journeys(journeys, workspace, campaigns=False)


class DashboardData:
    """Numbers for filter selections, cached per (selection, generation) in memory and on disk."""

    def __init__(self, ws: Workspace, *, cache_size: int = 1024, memory_bytes: int = MEMORY_BYTES, disk: bool = True,
                 disk_files: int = DISK_FILES, disk_bytes: int = DISK_BYTES,
                 analyze: Callable[[Journeys, str], Analysis] | None = None) -> None:
        """``cache_size`` views (and twice as many results) in memory, each cache at most ``memory_bytes`` of
        JSON; on disk at most ``disk_files`` files and ``disk_bytes`` per generation. ``analyze``: what
        computes a selection's analysis from its journeys and the workspace's path."""
        self.ws = ws
        self._analyze_journeys = analyze or selection_analysis
        self.cache_size = cache_size
        self.disk = DiskCache(ws.root / CACHE_DIR, max_files=disk_files, max_bytes=disk_bytes) if disk else None
        self._views: MemoryCache[tuple[Any, ...], View] = MemoryCache(cache_size, memory_bytes)
        self._entries: MemoryCache[tuple[str, str], dict[str, Any]] = MemoryCache(cache_size * 2, memory_bytes)
        self._owners: tuple[str, list[Owner]] | None = None
        self._first: tuple[str, date | None] | None = None
        self._baseline: tuple[int | None, Analysis | None] | None = None
        self._saved: tuple[int | None, tuple[Analysis, datetime] | None] | None = None
        self._counts: dict[tuple[Any, ...], dict[str, Any]] = {}  # a period's counts per segment (baseline, previous)
        self._state: tuple[tuple[tuple[int, int] | None, ...], State] | None = None
        self._lock = threading.Lock()  # the in-memory caches
        self._compute = threading.Lock()  # one computation at a time (two cores; DuckDB uses both)
        self._waiting = 0  # requests waiting to compute: the background yields to them
        self._running: dict[tuple[str, str], threading.Event] = {}  # what the background computes, set when done
        self._background: Any = None  # the DuckDB connection the background computes on, while it does (DuckDB only)
        self._config_code = digest([repr(ws.config), _code_version()])
        self._sla = sla_minutes(ws)
        self._benchmarks = benchmarks_in_effect(ws.config)
        self._warmed: set[Filters] = set()  # selections warm_up analyzed
        self._ahead: list[Filters] = []  # the neighbours of the selection last shown, to compute ahead (expect)
        self._wake = threading.Event()  # set when there are neighbours to compute
        self._expected = 0  # calls of expect: a neighbour interrupted is put back only if none came since
        self.prefetched = 0  # neighbours computed ahead since start
        self.computed = 0  # selections computed (not found in a cache) since start
        self.interrupted = 0  # background computations a request interrupted since start

    # --- state -------------------------------------------------------------------------------------

    def state(self) -> State:
        """The last ingest and the baseline snapshot's selection, read again only when the database
        files changed since (any committed write changes the file or its write-ahead log)."""
        stamp = self._stamp()
        with self._lock:
            if self._state is not None and self._state[0] == stamp:
                return self._state[1]
        with self.ws.connect(read_only=True) as con:
            fresh = one(con, "SELECT max(finished_at) FROM ingests")
            base = one(con, "SELECT filters, json_extract_string(result, '$.time_in_stage.as_of'), snapshot_id "
                            "FROM snapshots WHERE is_baseline ORDER BY snapshot_id DESC LIMIT 1")
        state = State(None if fresh is None else fresh[0],
                      None if base is None else Filters.from_dict(json.loads(base[0])),
                      None if base is None or base[1] is None else datetime.fromisoformat(base[1]),
                      None if base is None else int(base[2]))
        with self._lock:
            self._state = (stamp, state)
        return state

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        """(modification time, size) of the database file and of its write-ahead log (None: absent)."""
        out: list[tuple[int, int] | None] = []
        for path in (self.ws.database_path, self.ws.database_path.with_name(self.ws.database_path.name + ".wal")):
            try:
                st = path.stat()
            except FileNotFoundError:
                out.append(None)
            else:
                out.append((st.st_mtime_ns, st.st_size))
        return tuple(out)

    def freshness(self) -> datetime | None:
        """When the latest ingest finished (None before the first ingest)."""
        return self.state().freshness

    def generation(self, state: State | None = None) -> str:
        """The cache generation: last ingest, config and code (the baseline is part of each key)."""
        state = state or self.state()
        return digest([state.freshness, self._config_code])

    # --- views -------------------------------------------------------------------------------------

    def view(self, filters: Filters, *, background: bool = False) -> View:
        """The numbers for one selection (``filters.owners`` are leads.owner values, not pseudonyms)."""
        state = self.state()
        generation = self.generation(state)
        key = (generation, state.baseline_id, state.baseline_as_of, filters)
        with self._lock:
            hit = self._views.get(key)
            if hit is not None:
                return hit
        current, size = self._entry_sized(generation, filters, None, trend=True, background=background)
        matched = self.baseline_selection(filters, state)
        if matched is None:
            base = None
        elif _segments(matched) == _segments(state.baseline_filters):  # the baseline's own selection: as stored
            base = self._stored_baseline(state)
        else:
            base = self._baseline_funnel(generation, matched, state, background)
        analysis = Analysis.from_dict(current["analysis"])
        trend = {period: ConversionTrend.from_dict(t) for period, t in current["trend"].items()}
        points, min_n = self.ws.config.monitor.decline_points, self.ws.config.min_n
        month = trend.get("month")
        rows = period_deltas(analysis, base, points=points, min_n=min_n, projected=month.projected if month else None)
        before, no_previous = previous_period(filters), NO_DATES
        first = self.first_created() if before is not None else None
        if before is not None and before.date_from is not None and (first is None or first > before.date_from):
            no_previous = (f"the previous {(filters.date_to - filters.date_from).days + 1:,} days "  # type: ignore[operator]
                           f"start before the data's first lead ({first or '-'})")
            before = None
        previous = None if before is None else self._summed(generation, before, None, background)
        headline = tiles(analysis, previous, base, min_n=min_n, no_previous=no_previous, no_baseline=NO_BASELINE)
        result = View(filters, analysis, base, state.freshness, self._sla, trend, self._benchmarks, points, min_n,
                      tuple(rows), previous, tuple(headline), self.ws.config.labels)
        with self._lock:
            self._views.put(key, result, size)
        return result

    def _stored_baseline(self, state: State) -> Analysis | None:
        """The baseline snapshot's analysis as stored (read once per snapshot)."""
        with self._lock:
            if self._baseline is not None and self._baseline[0] == state.baseline_id:
                return self._baseline[1]
        with self.ws.connect(read_only=True) as con:
            row = one(con, "SELECT result FROM snapshots WHERE snapshot_id = ?", [state.baseline_id])
        result = None if row is None else Analysis.from_json(row[0])
        with self._lock:
            self._baseline = (state.baseline_id, result)
        return result

    def baseline_selection(self, filters: Filters, state: State | None = None) -> Filters | None:
        """The baseline's period with ``filters``' sources, personas and owners.

        The period is the baseline's dates, ending at its as-of when it had no end (later leads
        are not the baseline's); the analysis runs as of the baseline's as-of. When the segments
        are the baseline's own, :meth:`view` shows the snapshot as stored.
        """
        state = state or self.state()
        if state.baseline_filters is None:
            return None
        b = state.baseline_filters
        end = b.date_to or (state.baseline_as_of.date() if state.baseline_as_of else None)
        return Filters(b.date_from, end, filters.sources, filters.personas, filters.owners)

    def _entry(self, generation: str, filters: Filters, now: datetime | None, *, trend: bool,
               background: bool, kind: str = "analysis") -> dict[str, Any]:
        """analysis (+ trend) JSON for (filters, now), or with ``kind="counts"`` its :meth:`_segment_counts`:
        from memory, disk, or computed and stored in both."""
        return self._entry_sized(generation, filters, now, trend=trend, background=background, kind=kind)[0]

    def _entry_sized(self, generation: str, filters: Filters, now: datetime | None, *, trend: bool,
                     background: bool, kind: str = "analysis") -> tuple[dict[str, Any], int]:
        """:meth:`_entry` and its size as JSON (what the memory caches count)."""
        name = digest({"filters": filters.to_dict(), "now": now, "trend": trend, "kind": kind})
        found = self._cached(generation, name)
        if found is None and not background:
            with self._lock:
                running = self._running.get((generation, name))
            if running is not None:  # the background is computing this one: waiting is sooner than starting over
                running.wait(timeout=30)
                found = self._cached(generation, name)
        if found is None:
            as_of = self._everyone_as_of(generation, background) if kind == "analysis" and now is None \
                and filters != Filters() else None
            with self._turn(background):
                found = self._cached(generation, name)
                if found is None:
                    done = threading.Event()
                    if background:
                        with self._lock:
                            self._running[(generation, name)] = done
                    try:
                        found = (self._segment_counts(filters, now, background) if kind == "counts"
                                 else self._analyze(filters, now, trend, background, as_of))
                        self.computed += 1
                        if self.disk is not None:
                            self.disk.put(generation, name, found)
                        with self._lock:
                            self._entries.put((generation, name), found, json_size(found))
                    finally:
                        with self._lock:
                            self._running.pop((generation, name), None)
                        done.set()
        with self._lock:
            size = self._entries.size_of((generation, name))
        if not size:  # read from disk
            size = json_size(found)
        with self._lock:
            self._entries.put((generation, name), found, size)
        return found, size

    def _everyone_as_of(self, generation: str, background: bool) -> datetime | None:
        """The unfiltered analysis' as-of date: the end of the observed period, the latest event of all the
        data, so the same for every selection of one generation (a selection's analysis need not read it
        again from the ~10M events and touches)."""
        everyone = self._entry(generation, Filters(), None, trend=True, background=background)
        as_of = everyone["analysis"]["time_in_stage"].get("as_of")
        return None if as_of is None else datetime.fromisoformat(as_of)

    def _baseline_funnel(self, generation: str, matched: Filters, state: State, background: bool) -> Analysis:
        """What the period comparison reads of the baseline side for ``matched``: :meth:`_summed` over the
        baseline's period as of the baseline's as-of date."""
        return self._summed(generation, matched, state.baseline_as_of, background)

    def _summed(self, generation: str, matched: Filters, as_of: datetime | None, background: bool) -> Analysis:
        """An :class:`Analysis` of ``matched``'s funnel, pipeline and bookings (its filters, n_people, as-of date,
        period), summed from its period's counts per segment, which are computed once per generation and
        period (:meth:`_segment_counts`): speed-to-lead and dark leads withheld, no sources or friction rows."""
        period = Filters(matched.date_from, matched.date_to)
        key = (generation, period, as_of)
        with self._lock:  # kept aside from the views' LRU: every match reads it
            counts = self._counts.get(key)
        if counts is None:
            counts = self._entry(generation, period, as_of, trend=False, background=background, kind="counts")
            with self._lock:
                self._counts[key] = counts
                while len(self._counts) > MAX_PERIODS:
                    self._counts.pop(next(iter(self._counts)))
        f = matched
        rows = [r for r in counts["rows"]
                if (not f.sources or r["source"] in f.sources) and (not f.personas or r["persona"] in f.personas)
                and (not f.owners or r["owner"] in f.owners)]  # one row per (source, persona, owner) present
        names = counts.get("stages") or self.ws.config.stage_names
        stages = [s for s in self.ws.config.stages if s.name in names]
        total = {"n_people": sum(r["n"] for r in rows),
                 **{c: sum(r.get(c) or 0 for r in rows) for c in (*stage_columns(len(stages)), *MONEY_COLUMNS)}}
        funnel = Funnel(min_n=self.ws.config.min_n).from_counts(stages, total)
        only = withheld(FUNNEL_ONLY)
        as_of_day = datetime.fromisoformat(counts["as_of"])
        span = counts.get("span_days") or 0.0
        currency = self.ws.config.currency
        friction = Friction(currency=currency, won_amount=float(total["won_amount"]),
                            deal_size_n=int(total["won_deals"]), span_days=float(span))
        pipeline = (Pipeline(withheld(NO_OPPORTUNITIES)) if not counts.get("opportunities", True) else
                    Pipeline(OK, as_of_day, currency, int(total["open_deals"]), float(total["open_amount"])))
        return Analysis(str(self.ws.root), counts["as_of"], matched, funnel.n_people, funnel,
                        TimeInStage(as_of=as_of_day), Sources(), Sources(by="persona"),
                        SpeedToLead(status=only), DarkLeads(status=only), friction, self._benchmarks, pipeline=pipeline)

    def _cached(self, generation: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._entries.get((generation, name))
            if hit is not None:
                return hit
        return None if self.disk is None else self.disk.get(generation, name)

    def _analyze(self, filters: Filters, now: datetime | None, trend: bool, background: bool,
                 as_of: datetime | None) -> dict[str, Any]:
        with self._journeys(filters, now, background, as_of) as journeys:  # the trend reuses the analysis' tables
            analysis = self._analyze_journeys(journeys, str(self.ws.root)).to_dict()
            trends = {p: ConversionTrend(period=p).fit(journeys).to_dict() for p in PERIODS} if trend else {}
        out: dict[str, Any] = json.loads(json.dumps({"analysis": analysis, "trend": trends}, default=str))
        return out  # as JSON reads it back: the same values from memory and from disk

    def _segment_counts(self, filters: Filters, now: datetime | None, background: bool) -> dict[str, Any]:
        """The funnel's counts (:func:`~leadjourney.analysis.funnel.reach_counts`' columns) per source,
        persona and owner of ``filters``' people, and the as-of date: any selection of segments of these
        people has the funnel their rows add up to."""
        with self._journeys(filters, now, background) as journeys:
            people = journeys.people()
            counts = counts_by(people, SEGMENT_KEYS, journeys.config.stages, "stage_reach")
            as_of = journeys.as_of()
            won = people.group_by(list(SEGMENT_KEYS)).aggregate(won_deals=people.won_deals.sum(),
                                                                 won_amount=people.won_amount.sum())
            money = open_by(journeys, SEGMENT_KEYS, as_of)
            rows = fetch_rows(counts)
            extra: dict[tuple[Any, ...], dict[str, Any]] = {}
            for r in [*fetch_rows(won), *fetch_rows(money)]:
                extra.setdefault(tuple(r[k] for k in SEGMENT_KEYS), {}).update(r)
            for r in rows:
                r.update({c: v for c, v in (extra.get(tuple(r[k] for k in SEGMENT_KEYS)) or {}).items()
                          if c in MONEY_COLUMNS})
            span = fetch_rows(people.aggregate(first=people.created_at.min(), last=people.created_at.max()))[0]
            has_opportunities = bool(fetch_rows(journeys.table("opportunities").select("opportunity_id").limit(1)))
            stages = journeys.config.stage_names  # the stages with data (see Journeys.inputs)
        days = (0.0 if span["first"] is None else
                max(0.0, (min(span["last"], as_of) - span["first"]).total_seconds() / 86400))
        out: dict[str, Any] = json.loads(json.dumps({"rows": rows, "as_of": as_of.isoformat(), "stages": stages,
                                                     "span_days": days, "opportunities": has_opportunities},
                                                    default=str))
        return out

    @contextmanager
    def _journeys(self, filters: Filters, now: datetime | None, background: bool,
                  as_of: datetime | None = None) -> Iterator[Journeys]:
        """:func:`open_journeys` (on the ``[engine]`` backend); in the background, its DuckDB connection is where a
        waiting request interrupts it (another engine's query runs to its end: the request waits for it)."""
        if not background:
            with open_journeys(self.ws, filters, now, as_of=as_of) as journeys:
                yield journeys
            return
        try:
            with open_journeys(self.ws, filters, now, as_of=as_of) as journeys:
                if journeys.backend.name == "duckdb":
                    self._background = journeys.backend.con
                yield journeys
        except duckdb.InterruptException as exc:
            raise _Interrupted from exc
        finally:
            self._background = None

    @contextmanager
    def _turn(self, background: bool) -> Iterator[None]:
        """Hold the computation lock. The background waits while a request is waiting, and a request
        interrupts the background's query in progress (the background computes that selection again later)."""
        if background:
            while True:
                while self._waiting:
                    time.sleep(0.02)
                self._compute.acquire()
                if not self._waiting:
                    break
                self._compute.release()
        else:
            with self._lock:
                self._waiting += 1
            while not self._compute.acquire(timeout=INTERRUPT_EVERY_SECONDS):
                busy = self._background
                if busy is not None:
                    with suppress(duckdb.Error):  # it may have finished (and closed) meanwhile
                        busy.interrupt()
            with self._lock:
                self._waiting -= 1
        try:
            yield
        finally:
            self._compute.release()

    # --- ahead of time -----------------------------------------------------------------------------

    def saved_all_leads(self) -> tuple[Analysis, datetime] | None:
        """The newest saved analysis of all leads and when it was taken (the campaigns card's numbers), read once per
        snapshot."""
        with self.ws.connect(read_only=True) as con:
            try:
                newest = (one(con, "SELECT max(snapshot_id) FROM snapshots") or (None,))[0]
            except duckdb.CatalogException:  # a workspace never analyzed
                newest = None
        with self._lock:
            if self._saved is not None and self._saved[0] == newest:
                return self._saved[1]
        saved = latest_of_all_leads(self.ws) if newest is not None else None
        with self._lock:
            self._saved = (newest, saved)
        return saved

    def selections(self) -> list[Filters]:
        """The unfiltered selection and every single-filter one: each date preset, source, persona and owner."""
        return ([Filters()] + [Filters(date_from=a, date_to=b) for _, a, b in self.date_presets()]
                + [Filters(sources=(s,)) for s in self.source_options()]
                + [Filters(personas=(p,)) for p in self.persona_options()]
                + [Filters(owners=o.owners) for o in self.owners()])

    def date_presets(self) -> list[tuple[str, date, date]]:
        """(label, first, last creation date): the last 30 and 90 days and the last full quarter before the
        data's end (the unfiltered analysis' as-of date)."""
        as_of = self.view(Filters()).analysis.time_in_stage.as_of
        if as_of is None:
            return []
        end = as_of.date()
        quarter_start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
        last_end = quarter_start - timedelta(days=1)
        last_start = date(last_end.year, 3 * ((last_end.month - 1) // 3) + 1, 1)
        return [("last 30 days", end - timedelta(days=29), end), ("last 90 days", end - timedelta(days=89), end),
                (f"{last_start.year} Q{(last_start.month - 1) // 3 + 1}", last_start, last_end)]

    def pairs(self) -> list[Filters]:
        """Every selection of two filter values, the likeliest first: source x persona, a date preset x a
        source or a persona, source x owner, persona x owner, a date preset x owner; then two values of one
        filter (two sources, two personas, two owners)."""
        sources, personas = self.source_options(), self.persona_options()
        owners = [o.owners for o in self.owners()]
        dates = [(a, b) for _, a, b in self.date_presets()]
        return ([Filters(sources=(s,), personas=(p,)) for s in sources for p in personas]
                + [Filters(a, b, sources=(s,)) for a, b in dates for s in sources]
                + [Filters(a, b, personas=(p,)) for a, b in dates for p in personas]
                + [Filters(sources=(s,), owners=o) for s in sources for o in owners]
                + [Filters(personas=(p,), owners=o) for p in personas for o in owners]
                + [Filters(a, b, owners=o) for a, b in dates for o in owners]
                + [Filters(sources=tuple(sorted(two))) for two in itertools.combinations(sources, 2)]
                + [Filters(personas=tuple(sorted(two))) for two in itertools.combinations(personas, 2)]
                + [Filters(owners=tuple(sorted(a + b))) for a, b in itertools.combinations(owners, 2)])

    def precompute(self, stop: threading.Event | None = None, warm: Callable[[View], object] | None = None, *,
                   max_pairs: int | None = None, selections: Iterable[Filters] | None = None) -> int:
        """Compute every :meth:`selections` view, then the :meth:`pairs` (the first ``max_pairs`` of them, or
        all), not cached yet (or the ``selections`` given instead), yielding to requests; returns how many
        results were computed. ``warm`` is called with each view (the app renders it ahead, too)."""
        before, prefetched_before = self.computed, self.prefetched
        wanted = [*self.selections(), *self.pairs()[:max_pairs]] if selections is None else list(selections)
        for f in wanted:
            self._compute_ahead(stop)  # a neighbour of what the page shows goes first
            while not (stop is not None and stop.is_set()):
                try:
                    view = self.view(f, background=True)
                except _Interrupted:  # a request went first: this selection again
                    self.interrupted += 1
                    continue
                if warm is not None:
                    warm(view)
                break
        self.warm_up(stop)
        return self.computed - before - self.prefetched + prefetched_before

    def expect(self, filters: Filters, limit: int = MAX_AHEAD) -> None:
        """The page shows ``filters``: have the background compute its neighbours next (see :meth:`neighbours`),
        before the rest of the precompute. Replaces the neighbours of the selection shown before."""
        ahead = self.neighbours(filters)[:min(limit, MAX_AHEAD)]
        with self._lock:
            self._ahead = ahead
            self._expected += 1
        self._wake.set()

    def neighbours(self, filters: Filters) -> list[Filters]:
        """The selections one filter change away from ``filters``, the likeliest first: one more source, persona
        or owner (largest first), another date preset, one value fewer of a filter with several."""
        f = filters

        def merged(values: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted({*values, *more}))

        out = [replace(f, sources=merged(f.sources, (s,))) for s in self.source_options() if s not in f.sources]
        out += [replace(f, personas=merged(f.personas, (p,))) for p in self.persona_options() if p not in f.personas]
        out += [replace(f, date_from=a, date_to=b) for _, a, b in self.date_presets()
                if (a, b) != (f.date_from, f.date_to)]
        out += [replace(f, owners=merged(f.owners, o.owners)) for o in self.owners()
                if not set(o.owners) <= set(f.owners)]
        if len(f.sources) > 1:
            out += [replace(f, sources=tuple(v for v in f.sources if v != gone)) for gone in f.sources]
        if len(f.personas) > 1:
            out += [replace(f, personas=tuple(v for v in f.personas if v != gone)) for gone in f.personas]
        return list(dict.fromkeys(out))

    def _compute_ahead(self, stop: threading.Event | None) -> None:
        """Compute the neighbours :meth:`expect` asked for that no cache holds, yielding to requests."""
        while not (stop is not None and stop.is_set()):
            with self._lock:
                if not self._ahead:
                    self._wake.clear()
                    return
                f, asked = self._ahead.pop(0), self._expected
            before = self.computed
            try:
                self.view(f, background=True)
            except _Interrupted:  # a request went first: this neighbour again, unless it asked for others
                self.interrupted += 1
                with self._lock:
                    if self._expected == asked:
                        self._ahead.insert(0, f)
                continue
            self.prefetched += self.computed - before

    def warm_up(self, stop: threading.Event | None = None) -> None:
        """Analyze, once and without keeping the result, a selection of each shape: a small one
        (its people copied to a temporary table) and a large one (a view). Their queries are then built and
        compiled (:func:`~leadjourney.engine.prepared`), so the first selection a user asks for that no
        cache holds does not pay for that (about 0.3 s at 1M leads). Also reads (or computes and keeps) the
        baseline's counts per segment that every selection's period comparison sums."""
        generation = self.generation()
        state = self.state()
        matched = self.baseline_selection(Filters(sources=(WARM_UP_SOURCE,)), state)
        while matched is not None and not (stop is not None and stop.is_set()):
            try:
                self._baseline_funnel(generation, matched, state, background=True)
            except _Interrupted:
                self.interrupted += 1
                continue
            break
        for f in (Filters(sources=(WARM_UP_SOURCE,)), Filters(date_from=date(1, 1, 1))):
            while f not in self._warmed and not (stop is not None and stop.is_set()):
                as_of = self._everyone_as_of(generation, background=True)
                try:
                    with self._turn(background=True):
                        self._analyze(f, None, True, True, as_of)
                except _Interrupted:
                    self.interrupted += 1
                    continue
                self._warmed.add(f)

    def start_background(self, on_done: Callable[[int, float], None] | None = None, *,
                         warm: Callable[[View], object] | None = None, interval: float = 30.0) -> threading.Event:
        """Precompute in a daemon thread now and after each new ingest, and compute ahead the neighbours of
        the selection the page shows (:meth:`expect`); set the returned event to stop it.

        A failure (say, the database locked by an ingest) is retried after ``interval`` seconds.
        """
        stop = threading.Event()

        def loop() -> None:
            done = None
            while not stop.is_set():
                try:
                    generation = self.generation()
                    if generation != done:
                        started = time.perf_counter()
                        n = self.precompute(stop, warm)
                        done = generation
                        if on_done is not None and not stop.is_set():
                            on_done(n, time.perf_counter() - started)
                    self._compute_ahead(stop)
                    deadline = time.monotonic() + interval  # then look for new data again
                    while not stop.is_set() and time.monotonic() < deadline and not self._wake.wait(0.25):
                        pass  # until the page shows another selection
                except LeadJourneyError as exc:
                    log.warning("dashboard precompute: %s (retrying in %.0f s)", exc, interval)
                    stop.wait(interval)

        threading.Thread(target=loop, name="dashboard-precompute", daemon=True).start()
        return stop

    # --- filter options ----------------------------------------------------------------------------

    def source_options(self) -> list[str]:
        """The sources of all people, largest first (from the unfiltered analysis)."""
        return [d.source for d in self.view(Filters()).analysis.sources.distribution]

    def persona_options(self) -> list[str]:
        return [p.name for p in self.ws.config.personas] + [UNASSIGNED_PERSONA]

    def first_created(self) -> date | None:
        """The day the data's first person was created (read once per generation): a previous period starting
        before it is not compared (its first days hold no data, not no leads)."""
        generation = self.generation()
        with self._lock:
            if self._first is not None and self._first[0] == generation:
                return self._first[1]
        with self.ws.connect(read_only=True) as con:
            row = one(con, "SELECT min(created_at) FROM leads WHERE excluded_as IS NULL AND lead_id = person_id")
        first = None if row is None or row[0] is None else row[0].date()
        with self._lock:
            self._first = (generation, first)
        return first

    def owners(self) -> list[Owner]:
        """The owners of people (leads.owner of each person's record), largest first, as the page shows them."""
        generation = self.generation()
        with self._lock:
            if self._owners is not None and self._owners[0] == generation:
                return self._owners[1]
        with connect_backend(self.ws) as backend:  # the [engine] backend, as the numbers per owner are
            leads = backend.table("leads")
            people = leads.filter(leads.excluded_as.isnull() & (leads.lead_id == leads.person_id)
                                  & leads.owner.notnull())
            counts = people.group_by("owner").aggregate(people=people.count())
            pseudonym = owner_pseudonym(counts.owner, pseudonym_salt(backend))
            rows = fetch_rows(counts.mutate(pseudonym=pseudonym))
        found: dict[str, Owner] = {}
        for r in sorted(rows, key=lambda r: (-r["people"], r["owner"])):
            key = r["owner"] if self.ws.config.show_owners else r["pseudonym"]
            prior = found.get(key)
            found[key] = Owner(key, tuple(sorted((*prior.owners, r["owner"]))) if prior else (r["owner"],),
                               r["people"] + (prior.people if prior else 0))
        owners = list(found.values())
        with self._lock:
            self._owners = (generation, owners)
        return owners

    def check(self, filters: Filters) -> None:
        """Refuse a page selection (owners as the page shows them) naming a value the filter does not offer, or
        more than :data:`MAX_VALUES_PER_FILTER` values: a :class:`SelectionError`, before anything is computed
        (the options come from the unfiltered view, computed at start)."""
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise SelectionError(f"the date range is empty: from {filters.date_from} is after to {filters.date_to}")
        for what, values, options in (("source", filters.sources, self.source_options),
                                      ("persona", filters.personas, self.persona_options),
                                      ("owner", filters.owners, lambda: [o.key for o in self.owners()])):
            check_count(what, values)
            if values:
                known = options()
                allowed = set(known)
                wrong = next((v for v in values if v not in allowed), None)
                if wrong is not None and what == "owner":  # not echoed: a link must not put a name on the page
                    raise SelectionError(f"an owner the filter does not offer ({len(known)} owners, shown as "
                                         "the filter lists them)")
                if wrong is not None:
                    raise SelectionError(unknown(what, wrong, known, "among the filter's options"))

    def resolve(self, filters: Filters) -> Filters:
        """Page filters (owner keys) → analysis filters (leads.owner values); unknown owner keys are dropped."""
        by_key = {o.key: o.owners for o in self.owners()}
        real = sorted({name for k in filters.owners for name in by_key.get(k, ())})
        return replace(filters, owners=tuple(real))

    def owner_keys(self, filters: Filters) -> Filters:
        """Analysis filters → page filters: each owner as the page shows it (pseudonym unless show_owners)."""
        by_owner = {name: o.key for o in self.owners() for name in o.owners}
        return replace(filters, owners=tuple(sorted({by_owner.get(n, "owner-?") for n in filters.owners})))


def check_count(what: str, values: object) -> None:
    """Refuse (:class:`SelectionError`) anything but a list of at most :data:`MAX_VALUES_PER_FILTER` strings of at
    most :data:`MAX_VALUE_LENGTH` characters: what one filter of a request may hold."""
    if values is None:
        return
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise SelectionError(f"{what}: expected a list of {what} names")
    if len(values) > MAX_VALUES_PER_FILTER:
        raise SelectionError(f"{what}: {len(values):,} values asked; a selection holds at most "
                             f"{MAX_VALUES_PER_FILTER} {what}s")
    if any(len(v) > MAX_VALUE_LENGTH for v in values):
        raise SelectionError(f"{what}: a value longer than {MAX_VALUE_LENGTH} characters is no {what} of the data")


def previous_period(f: Filters) -> Filters | None:
    """The same segments over the days just before ``f``'s, as many of them; None without both dates."""
    if f.date_from is None or f.date_to is None:
        return None
    days = (f.date_to - f.date_from).days + 1
    return replace(f, date_from=f.date_from - timedelta(days=days), date_to=f.date_from - timedelta(days=1))


def sla_minutes(ws: Workspace) -> float:
    """The Speed-to-Lead SLA from the config's definitions (5 minutes when none sets one)."""
    for d in ws.config.definitions:
        if d.sla_minutes is not None and d.term.strip().lower() == SLA_TERM:
            return d.sla_minutes
    return next((d.sla_minutes for d in ws.config.definitions if d.sla_minutes is not None), DEFAULT_SLA_MINUTES)


def _segments(f: Filters | None) -> tuple[tuple[str, ...], ...]:
    return () if f is None else (f.sources, f.personas, f.owners)


_CODE: str | None = None


def _code_version() -> str:
    """A hash of the analysis code and this module: cached numbers from other code are not reused."""
    global _CODE
    if _CODE is None:
        import leadjourney.analysis as analysis

        h = hashlib.sha256()
        for path in [*sorted(Path(analysis.__file__).parent.glob("*.py")), Path(__file__)]:
            h.update(path.read_bytes())
        _CODE = h.hexdigest()[:16]
    return _CODE
