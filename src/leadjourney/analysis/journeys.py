"""The journeys every analysis starts from, as Ibis expressions over the canonical tables.

A *person* is a lead as the dedupe policy counts it (``person_id``); unqualified
contacts (``excluded_as``) are left out. For each person and configured stage,
:meth:`Journeys.entries` gives the first time they entered it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import TableNotFound

from leadjourney.backends import connect_backend
from leadjourney.config import Config, EngineSettings
from leadjourney.engine import (
    create_temp_table,
    create_temp_view,
    drop_temp,
    fetch_rows,
    fetch_value,
    prepared,
)
from leadjourney.ingest import person_engagement, person_journeys, person_touches
from leadjourney.ingest.persona_rules import persona_column
from leadjourney.workspace import Workspace


@dataclass(frozen=True)
class Filters:
    """Which leads an analysis looks at: created in [date_from, date_to], from these sources, personas and owners.

    Every filter is a predicate on a person (their earliest record), so a filtered selection is a
    subset of the unfiltered people.
    """

    date_from: date | None = None
    date_to: date | None = None
    sources: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "sources": list(self.sources),
            "personas": list(self.personas),
            "owners": list(self.owners),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Filters:
        """The inverse of :meth:`to_dict` (selections stored before the owner filter have no owners)."""
        def day(v: Any) -> date | None:
            return date.fromisoformat(v) if v else None

        return cls(day(d.get("date_from")), day(d.get("date_to")), tuple(d.get("sources") or ()),
                   tuple(d.get("personas") or ()), tuple(d.get("owners") or ()))


@dataclass(frozen=True)
class Inputs:
    """What the workspace holds that metrics need: each metric checks its inputs here and is withheld,
    with the reason, when one is missing (read once per run; never per selection, so every selection of
    the same data has the same stages and the same withheld metrics)."""

    stages_with_data: tuple[str, ...]  # configured stages with at least one stage event (the first always)
    stages_without_data: tuple[str, ...]  # configured stages nothing was loaded for: left out of the analyses
    touchpoints: int
    human_touches: bool  # any touchpoint with actor = 'human'
    form_fills: bool  # any touchpoint of kind 'form_fill'


LAZY_SHARE = 0.25  # Journeys.touchpoints: a larger selection's touches are filtered in each query, not stored
_in_use: set[tuple[int, str]] = set()  # (connection, temporary table) held by an open Journeys
_in_use_lock = threading.Lock()


@dataclass
class Journeys:
    """Filtered people and their stage entries, shared by the analyses of one run."""

    backend: ibis.BaseBackend
    config: Config
    filters: Filters = field(default_factory=Filters)
    now: datetime | None = None
    lazy_share: float = LAZY_SHARE  # a larger share of everyone is filtered in each query, a smaller one stored
    engagement_from: str = "people"  # where engagement is read when it serves: "people", "table" or "live"
    _people: ir.Table | None = field(default=None, init=False, repr=False)
    _temporary: list[str] = field(default_factory=list, init=False, repr=False)
    _touches: dict[datetime, ir.Table] = field(default_factory=dict, init=False, repr=False)
    _cache: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False)
    _tables: dict[str, ir.Table] = field(default_factory=dict, init=False, repr=False)
    _as_of: datetime | None = field(default=None, init=False, repr=False)
    _share: float | None = field(default=None, init=False, repr=False)  # of everyone, once people() decided
    _built: tuple[str, str] | None = field(default=None, init=False, repr=False)  # person_journeys.built_for
    _views: set[str] = field(default_factory=set, init=False, repr=False)
    configured: Config | None = field(default=None, init=False, repr=False)  # as in leadjourney.toml
    inputs: Inputs | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        """Read the :class:`Inputs`; ``config`` keeps only the stages with data (the configured one is
        ``configured``), so no analysis invents conversions through a stage nothing was loaded for."""
        self.configured = self.config
        try:
            self.inputs = read_inputs(self.backend, self.config)
        except TableNotFound:  # a connection without the workspace's tables: nothing to analyze, nothing left out
            self.inputs = Inputs(tuple(self.config.stage_names), (), 0, False, False)
        if self.inputs.stages_without_data:
            kept = [s for s in self.config.stages if s.name in self.inputs.stages_with_data]
            self.config = replace(self.config, stages=tuple(kept))

    def table(self, name: str) -> ir.Table:
        """A workspace table (``leads``, ``stage_events``, ...), looked up once per run."""
        if name not in self._tables:
            self._tables[name] = self.backend.table(name)
        return self._tables[name]

    def people(self) -> ir.Table:
        """One row per selected person (their earliest record): the lead fields (person_id, created_at,
        source, status, job_title, industry, employee_count, owner), ``person_key`` (an integer for
        joins to :meth:`touchpoints`), persona, the furthest stage
        ``top``, per configured stage ``has_i`` / ``at_i``, ``won_deals`` / ``won_amount`` and, when ingest
        added them, the engagement columns (see :mod:`leadjourney.ingest.person_journeys` and
        :meth:`engagement_in_people`: they hold for the configured silence and a current as-of date only).

        Decided once per run. When ingest's table serves (stages and personas as configured): everyone is
        that table itself; a selection of more than :data:`LAZY_SHARE` of everyone is a temporary view of
        it (its filter is cheaper to run again in each query than copying most of the table); a smaller
        selection is a temporary table. Otherwise (computed live) the selection is a temporary table.
        """
        if self._people is None:
            people, stored = self._select_people()
            if not stored:
                self._people = self.materialize(people)
            elif self.filters == Filters():
                self._people, self._share = people, 1.0
            else:
                view = self.materialize(people, view=True)
                self._share = _share(view, self.table(person_journeys.TABLE))
                self._people = view if self._share > self.lazy_share else self.materialize(view)
        return self._people

    def everyone(self) -> ir.Table:
        """Every person's lead fields and stage entries, unfiltered (no persona column when computed live)."""
        return self._person_journeys()[0]

    def check(self) -> int:
        """Check the selection before anything is computed; the number of people in it. Unknown filter values,
        an empty workspace, nobody selected raise a :class:`~leadjourney.errors.SelectionError` (see
        :mod:`leadjourney.analysis.selection`); owners given as pseudonyms are resolved to their names."""
        from leadjourney.analysis.selection import check_selection

        return check_selection(self)

    def reselect(self, filters: Filters) -> None:
        """Look at ``filters`` instead (what was computed for the previous selection is dropped)."""
        self.release()
        self.filters = filters

    def _select_people(self) -> tuple[ir.Table, bool]:
        """The selection's query, and whether it reads ingest's table with its personas (nothing live)."""
        people, stored = self._person_journeys()
        personas_stored = stored and self._built is not None and self._built[1] == person_journeys.personas_digest(
            self.config.personas)
        if not personas_stored:
            people = people.mutate(persona=persona_column(people, self.config.personas))
        f = self.filters
        if f.date_from:
            people = people.filter(people.created_at >= ibis.timestamp(datetime.combine(f.date_from, datetime.min.time())))
        if f.date_to:
            end = datetime.combine(f.date_to, datetime.min.time()) + timedelta(days=1)
            people = people.filter(people.created_at < ibis.timestamp(end))
        if f.sources:
            people = people.filter(people.source.isin(list(f.sources)))
        if f.personas:
            people = people.filter(people.persona.isin(list(f.personas)))
        if f.owners:
            people = people.filter(people.owner.isin(list(f.owners)))
        return people, personas_stored

    def _person_journeys(self) -> tuple[ir.Table, bool]:
        """Every person's lead fields and stage entries, and whether they come from ingest's table: it
        serves when it was built for the configured stages, else the same query runs live (stages edited
        since, or an older workspace)."""
        names = self.config.stage_names
        if self._built is None:
            self._built = person_journeys.built_for(self.backend) or ("", "")
        if self._built[0] == person_journeys.stages_digest(names):
            return self.table(person_journeys.TABLE), True
        return person_journeys.person_journeys(self.backend, names, self.config.personas), False

    def entries(self) -> ir.Table:
        """person_id, stage, idx (position in the lifecycle), entered_at (first entry; NULL if never dated)."""
        known = self._events()
        idx = known.stage.cases(*[(n, i) for i, n in enumerate(self.config.stage_names)], else_=ibis.null("int32"))
        return (
            known.mutate(idx=idx)
            .group_by(["person_id", "stage", "idx"])
            .aggregate(entered_at=known.entered_at.min())
        )

    def _events(self) -> ir.Table:
        """The selected people's stage events in configured stages: person_id, stage, entered_at."""
        leads = self.table("leads").select("lead_id", "person_id")
        events = self.table("stage_events")
        known = events.filter(events.stage.isin(self.config.stage_names)).join(leads, "lead_id")
        known = known.select("person_id", "stage", "entered_at")
        return known.semi_join(self.people().select("person_id"), "person_id")

    def wide(self) -> ir.Table:
        """One row per selected person with their stage columns: :meth:`people` (one table serves both)."""
        return self.people()

    def touchpoints(self, as_of: datetime) -> ir.Table:
        """The selected people's touchpoints up to ``as_of``.

        Columns: person_key, occurred_at, kind, channel, actor, gap_seconds (since the person's
        previous touch; see :mod:`leadjourney.ingest.person_touches`); a person's id is :meth:`people`'
        (join on person_key). Read from the table
        ingest derives. With a filter, a small selection's touches are computed once per run and
        as-of date (a temporary table); a selection of more than :data:`LAZY_SHARE` of all people
        reads them through the filter each time (writing millions of rows costs more than filtering
        them again).
        """
        if as_of not in self._touches:
            touches = self._person_touches()
            touches = touches.filter(touches.occurred_at <= ibis.timestamp(as_of))
            if self.filters != Filters():
                touches = touches.semi_join(self.people().select("person_key"), "person_key")
                if self._selected_share() <= self.lazy_share:
                    touches = self.materialize(touches)
            self._touches[as_of] = touches
        return self._touches[as_of]

    def _selected_share(self) -> float:
        """The selected people as a share of everyone (1.0 when there is nobody)."""
        people = self.people()
        if self._share is None:
            self._share = _share(people, self._person_journeys()[0])
        return self._share

    def engagement(self, as_of: datetime, days: int) -> ir.Table:
        """The selected people's :mod:`~leadjourney.ingest.person_engagement` columns as of ``as_of``, with
        re-engagement after silences of ``days`` (and person_key): the table ingest derives when it applies
        (else computed from :meth:`touchpoints`); once per run, as-of date and ``days``. When ingest copied
        them into person_journeys, :meth:`people` itself (see :meth:`engagement_in_people`)."""
        key = ("engagement", as_of, days)
        if key not in self._cache:
            wanted = person_engagement.Parameters.of(self.config.stage_names, days)
            if self.engagement_in_people(as_of, days):
                self._cache[key] = self.people()
            elif self._stored_engagement_serves(as_of, days):
                table = self.table(person_engagement.TABLE)
                if self.filters != Filters():
                    table = table.semi_join(self.people().select("person_key"), "person_key")
                    if self._selected_share() <= self.lazy_share:
                        table = self.materialize(table)
                self._cache[key] = table
            else:
                self._cache[key] = self.materialize(person_engagement.person_engagement(
                    self.touchpoints(as_of), self.people(), wanted.signal_index, days))
        return self._cache[key]

    def engagement_in_people(self, as_of: datetime, days: int) -> bool:
        """Whether :meth:`people` carries the engagement columns as of ``as_of`` for silences of ``days``: read
        from ingest's person_journeys, which ingest gave the person_engagement columns, built for these."""
        key = ("engagement in people", as_of, days)
        if key not in self._cache:
            self._cache[key] = bool(
                self.engagement_from == "people"
                and self._stored_engagement_serves(as_of, days) and self._person_journeys()[1]
                and set(person_engagement.COLUMNS) <= set(self.people().columns)
                and person_engagement.in_journeys(self.backend))
        return bool(self._cache[key])

    def _stored_engagement_serves(self, as_of: datetime, days: int) -> bool:
        """Whether ingest's person_engagement holds as of ``as_of`` for silences of ``days`` (meta read once per run)."""
        if self.engagement_from == "live":
            return False
        if "stored engagement" not in self._cache:
            self._cache["stored engagement"] = person_engagement.stored_for(self.backend)
        stored = self._cache["stored engagement"]
        wanted = person_engagement.Parameters.of(self.config.stage_names, days)
        return stored is not None and stored.serves(wanted, as_of)

    def with_engagement(self, as_of: datetime, days: int) -> ir.Table:
        """:meth:`people` with the :meth:`engagement` columns: people() itself when it carries them, else joined."""
        if self.engagement_in_people(as_of, days):
            return self.people()
        engagement = self.engagement(as_of, days).select("person_key", *person_engagement.COLUMNS)
        people = self.people()
        people = people.drop(*[c for c in person_engagement.COLUMNS if c in people.columns])  # other parameters'
        return people.left_join(engagement, "person_key").drop("person_key_right")

    def _person_touches(self) -> ir.Table:
        """The derived table; for a workspace last ingested by an older version, its columns (v2 also stored
        person_id) or, before person_key (v1), the same query live."""
        meta = self.table("meta")
        built = fetch_value(meta.filter(meta.key == person_touches.FINGERPRINT_KEY).count())
        if built and "person_key" in (stored := self.table(person_touches.TABLE)).columns:
            return stored if stored.columns == person_touches.COLUMNS else stored.select(*person_touches.COLUMNS)
        return self.materialize(person_touches.person_touches(self.backend))

    def cached(self, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
        """``build()`` materialized once per run and ``key``: per-person tables several analyses read."""
        if key not in self._cache:
            self._cache[key] = self.materialize(build())
        return self._cache[key]

    def remembered(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run and ``key``: a result (rows, a curve) several analyses of the run read."""
        key = ("remembered", key)
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def materialize(self, expr: ir.Table, *, view: bool = False) -> ir.Table:
        """Compute ``expr`` once into a temporary table that later queries read (dropped by :meth:`release`);
        with ``view``, a temporary view instead (its query runs again in each query that reads it).

        Tables are numbered in the order a run makes them (``lj_tmp_1``, ...), so the next run's
        queries read the same names and their compiled SQL is reused (:func:`~leadjourney.engine.compiled_sql`);
        a second run open on the same connection takes the next free numbers.
        """
        connection = id(getattr(self.backend, "con", self.backend))
        with _in_use_lock:
            number = len(self._temporary) + 1
            while (connection, f"lj_tmp_{number}") in _in_use:
                number += 1
            name = f"lj_tmp_{number}"
            _in_use.add((connection, name))
        self._temporary.append(name)
        if view:
            self._views.add(name)
            return create_temp_view(self.backend, name, expr)
        return create_temp_table(self.backend, name, expr)

    def release(self) -> None:
        """Drop what was materialized in the engine; call before closing the connection."""
        connection = id(getattr(self.backend, "con", self.backend))
        for name in reversed(self._temporary):  # views before the tables they may read
            drop_temp(self.backend, name, view=name in self._views)
        with _in_use_lock:
            _in_use.difference_update((connection, name) for name in self._temporary)
        self._temporary.clear()
        self._views.clear()
        self._people = None
        self._share = None
        self._built = None
        self._touches.clear()
        self._cache.clear()

    def as_of(self) -> datetime:
        """The end of the observed period: the latest stage entry or touchpoint not in the future
        (read once per run)."""
        if self._as_of is None:
            self._as_of = self._latest()
        return self._as_of

    def _latest(self) -> datetime:
        now = self.now or datetime.now(UTC).replace(tzinfo=None)
        events = self.table("stage_events")
        touches = self.table("touchpoints")
        limit = ibis.timestamp(now)
        events = events.filter(events.entered_at <= limit)
        touches = touches.filter(touches.occurred_at <= limit)
        latest = (  # both maxima in one round trip
            fetch_rows(events.aggregate(event=events.entered_at.max())
                       .cross_join(touches.aggregate(touch=touches.occurred_at.max())))[0]
        )
        found = [t for t in latest.values() if t is not None]
        return max(found) if found else now


def read_inputs(backend: ibis.BaseBackend, config: Config) -> Inputs:
    """The workspace's :class:`Inputs`: one query of probes that each stop at their first row (which stage has an
    entry, whether a touch by a person and a form fill exist) and the touchpoints' count (DuckDB keeps it)."""
    events, touches = backend.table("stage_events"), backend.table("touchpoints")
    names = config.stage_names

    def build() -> ir.Table:
        probes = [(events, events.stage == n, f"stage:{n}") for n in names]
        probes += [(touches, touches.actor == person_engagement.HUMAN, "human"),
                   (touches, touches.kind == person_engagement.FORM_FILL, "form")]
        first = [table.filter(where).select(found=ibis.literal(name)).limit(1) for table, where, name in probes]
        return ibis.union(*first).mutate(touches=touches.count().as_scalar())

    rows = fetch_rows(prepared(backend, ("inputs", events.op(), touches.op(), tuple(names)), build))
    found = {r["found"] for r in rows}
    with_data = tuple(n for i, n in enumerate(names) if i == 0 or f"stage:{n}" in found)
    total = int(rows[0]["touches"] or 0) if rows else int(fetch_value(touches.count()) or 0)
    return Inputs(with_data, tuple(n for n in names if n not in with_data), total, "human" in found, "form" in found)


def _share(selection: ir.Table, everyone: ir.Table) -> float:
    """``selection``'s rows as a share of ``everyone``'s (1.0 when there is nobody), in one round trip."""
    counts = fetch_rows(selection.aggregate(n=selection.count()).cross_join(everyone.aggregate(total=everyone.count())))[0]
    return counts["n"] / counts["total"] if counts["total"] else 1.0


@contextmanager
def open_journeys(ws: Workspace, filters: Filters | None = None, now: datetime | None = None, *,
                  as_of: datetime | None = None, check: bool = False,
                  engine: EngineSettings | None = None) -> Iterator[Journeys]:
    """The workspace's journeys for one run: a read-only connection, released and closed afterwards.

    ``engine``: the backend to run on; by default the workspace's ``[engine]`` (``--engine``), so every
    analysis (analyze, map, report, monitor, dashboard) runs where ``analyze`` does;
    ``EngineSettings()`` for the workspace's DuckDB file whatever is configured.

    ``as_of`` is the end of the observed period when the caller knows it already (it is the same for
    every selection of the same data: the dashboard reads it from its unfiltered analysis). ``check``:
    :meth:`Journeys.check` first (an unknown filter value, no data or nobody selected raises); the monitor
    and the dashboard leave it off, as an empty period or pair of values is a result for them.

    >>> with open_journeys(Workspace.open("acme")) as journeys:   # doctest: +SKIP
    ...     inventory = TouchpointInventory().fit(journeys)
    """
    with connect_backend(ws, engine) as backend:
        journeys = Journeys(backend, ws.config, filters or Filters(), now)
        journeys._as_of = as_of
        try:
            if check:
                journeys.check()
            yield journeys
        finally:
            journeys.release()
