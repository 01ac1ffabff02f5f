"""The touchpoint inventory: every touchpoint kind x channel per stage, with its conversion lift.

A touchpoint belongs to the stage the person was in when it happened: the furthest
configured stage they had a dated entry into at or before the touch (an interval join in
the engine on their first stage entries; with entries in lifecycle order this is the
as-of join's latest entry, and a tie goes to the furthest stage). Touches before any
entry count in the first stage. For each stage:

* the people *in the stage* are those with a dated entry into it (everyone, for the
  first stage, as every person is a lead), and they *converted* when they reached any
  later configured stage;
* ``rate_with`` is the conversion of the people in the stage who had the touchpoint
  there, ``rate_without`` of those who did not; ``lift`` is their difference with a 95%
  Newcombe hybrid score interval. Lift is association, not cause: people who convert
  get more touches.

The last stage has no next stage: its rates and lift are None.

Beside the touchpoint types (``rows``), the same columns for named items (``items``, ``item`` their name), each
counted in the stage the person was in, like a touch: the landing pages of stitched people's web visits
(``landing_page``) and their page views (``page_views``: volume is pages viewed), from ``web_visits``; the
campaigns their touches carry (``nurture`` when the campaign is a nurture sequence by
:mod:`leadjourney.analysis.nurture_programs`, else ``campaign``); the content assets they consumed (``content``:
no mere e-mail send, delivery or open, no rep's touch; :data:`~leadjourney.analysis.marketing.NOT_CONSUMED`).
Visits of anonymous visitors belong to no person and count in none.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import TableNotFound

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.marketing import (
    HUMAN,
    NOT_CONSUMED,
    blank_null,
    email_event,
)
from leadjourney.analysis.nurture_programs import nurture_names
from leadjourney.analysis.stats import wilson_interval
from leadjourney.engine import fetch_rows
from leadjourney.escape import csv_row, xlsx_row
from leadjourney.escape import markdown_text as md
from leadjourney.tabular import Tabular


@dataclass(frozen=True)
class TouchpointRow:
    stage: str  # the configured stage the person was in when it happened
    lane: str  # that stage's lane
    kind: str
    channel: str | None
    automated: bool  # actor != 'human'
    volume: int  # touchpoints
    unique_leads: int  # distinct people
    median_per_lead: float | None  # median count per person among people who had it in that stage
    n_with: int  # people in the stage who had it there
    n_without: int  # people in the stage who did not
    rate_with: float | None  # conversion to a later stage
    rate_without: float | None
    lift: float | None  # rate_with - rate_without
    lift_ci_low: float | None  # 95% Newcombe hybrid score interval
    lift_ci_high: float | None
    item: str | None = None  # a named item's name (landing page, campaign, content asset); None: a touch type


@dataclass(frozen=True)
class StageTotal:
    """People in one stage, how many converted, and the touchpoints attributed to it."""

    stage: str
    lane: str
    people: int
    converted: int | None  # None for the last stage
    touchpoints: int


def newcombe_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval of p1 - p2: Newcombe's hybrid score method from the two Wilson intervals.

    >>> tuple(round(x, 4) for x in newcombe_interval(56, 70, 48, 80))
    (0.0524, 0.3339)
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def staged_touches(journeys: Journeys, as_of: datetime) -> ir.Table:
    """The selected people's touches up to ``as_of`` with ``idx``, the stage the person was in then,
    and ``top``, the furthest stage they reached: an interval join on their per-person stage entries."""
    joined, idx = _staged(journeys, journeys.touchpoints(as_of))
    return joined.select(
        "person_key", "occurred_at", "kind", "channel", "actor", "top",
        idx=idx.cast("int8"), automated=automated(joined),
    )


def _staged(journeys: Journeys, events: ir.Table) -> tuple[ir.Table, ir.IntegerValue]:
    """``events`` (person_key, occurred_at, ...) joined to their person's stage entries and ``top``; and the
    stage each happened in: the furthest entered at or before it (none: the first stage)."""
    n = len(journeys.config.stages)
    wide = journeys.wide()
    entries = wide.select("person_key", top=wide.top.fill_null(-1), **{f"at_{i}": wide[f"at_{i}"] for i in range(1, n)})
    joined = events.join(entries, "person_key")
    idx = ibis.cases(*[((joined[f"at_{i}"] <= joined.occurred_at).fill_null(False), i) for i in range(n - 1, 0, -1)],
                     else_=0) if n > 1 else ibis.literal(0)
    return joined, idx


def automated(touches: ir.Table) -> ir.BooleanValue:
    """Whether a touch was automated: any actor but a human (unknown counts as automated)."""
    return (touches.actor != "human").fill_null(True)


def touch_types(touches: ir.Table) -> ir.Table:
    """The distinct touchpoint types of ``touches``, numbered: type_id, kind, channel, automated."""
    types = touches.select("kind", "channel", automated=automated(touches)).distinct()
    return types.mutate(type_id=ibis.row_number().over(order_by=["kind", "channel", "automated"]).cast("int32"))


@dataclass
class TouchpointInventory(Tabular):
    """Touchpoint kind x channel x automated/human per stage: volume, reach and conversion lift.

    >>> inventory = TouchpointInventory().fit(journeys)   # doctest: +SKIP
    >>> inventory.rows[0].kind, inventory.rows[0].lift      # doctest: +SKIP
    ('form_fill', 0.04)
    """

    table_from = "rows"  # to_arrow() / to_pandas(): one row per item

    as_of: datetime | None = None
    rows: list[TouchpointRow] = field(default_factory=list)
    stages: list[StageTotal] = field(default_factory=list)
    items: list[TouchpointRow] = field(default_factory=list)  # landing pages, page views, campaigns, content

    @property
    def all_rows(self) -> list[TouchpointRow]:
        """The touch types, then the named items: what the CSV, workbook and Markdown list."""
        return [*self.rows, *self.items]

    def fit(self, journeys: Journeys) -> TouchpointInventory:
        self.as_of = self.as_of or journeys.as_of()
        stages = journeys.config.stages
        last = len(stages) - 1
        touches = staged_touches(journeys, self.as_of).view()  # its own relation, joined once more below
        # each touchpoint type as a small integer first: grouping ~8M touches per person on
        # (text, int, int) is about twice as fast as on the kind and channel texts themselves
        as_of = self.as_of
        types = journeys.cached(("touch_types", as_of), lambda: touch_types(journeys.touchpoints(as_of)))
        keyed = types.rename(type_kind="kind", type_channel="channel", type_automated="automated")
        coded = touches.join(keyed, [touches.kind.identical_to(keyed.type_kind),
                                     touches.channel.identical_to(keyed.type_channel),
                                     touches.automated == keyed.type_automated])
        per_person = coded.group_by(["person_key", "idx", "type_id"]).aggregate(n=coded.count(), top=coded.top.max())
        grouped = per_person.group_by(["idx", "type_id"]).aggregate(
            volume=per_person.n.sum(),
            unique_leads=per_person.count(),
            median_per_lead=per_person.n.cast("float64").median(),
            converted=(per_person.top > per_person.idx).sum(),
        )
        found = fetch_rows(grouped.join(types, "type_id"))
        totals = self._stage_totals(journeys.wide(), len(stages))
        volume_by_stage = [0] * len(stages)
        for r in found:
            volume_by_stage[int(r["idx"])] += int(r["volume"])
        self.stages = [
            StageTotal(s.name, s.lane, totals[i][0], totals[i][1] if i < last else None, volume_by_stage[i])
            for i, s in enumerate(stages)
        ]
        rows = [self._row(r, totals, journeys) for r in found]
        order = {s.name: i for i, s in enumerate(stages)}
        self.rows = sorted(rows, key=lambda r: (order[r.stage], -r.volume, r.kind, r.channel or "", r.automated))
        items = [self._row({**r, "automated": True}, totals, journeys) for r in self._items(journeys, self.as_of)]
        self.items = sorted(items, key=lambda r: (order[r.stage], r.kind, -r.volume, r.item or ""))
        return self

    @staticmethod
    def _items(journeys: Journeys, as_of: datetime) -> list[dict[str, Any]]:
        """The named items' counts per stage (see the module docstring), as the touch types' rows."""
        events = _item_events(journeys, as_of)
        if events is None:
            return []
        staged, idx = _staged(journeys, events)
        staged = staged.mutate(idx=idx.cast("int8"))
        per = staged.group_by(["person_key", "idx", "kind", "channel", "item"]).aggregate(
            n=staged.n.sum(), top=staged.top.max())
        return fetch_rows(per.group_by(["idx", "kind", "channel", "item"]).aggregate(
            volume=per.n.sum(), unique_leads=per.count(), median_per_lead=per.n.cast("float64").median(),
            converted=(per.top > per.idx).sum()))

    @staticmethod
    def _stage_totals(wide: ir.Table, n: int) -> list[tuple[int, int]]:
        """(people in the stage, of whom converted to a later stage) per stage."""
        top = wide.top.fill_null(-1)
        aggregates: dict[str, Any] = {}
        for i in range(n):
            inside = wide[f"at_{i}"].notnull() if i else wide.person_id.notnull()
            aggregates[f"n_{i}"] = inside.sum()
            aggregates[f"c_{i}"] = (inside & (top > i)).sum()
        row = fetch_rows(wide.aggregate(**aggregates))[0]
        return [(int(row[f"n_{i}"] or 0), int(row[f"c_{i}"] or 0)) for i in range(n)]

    @staticmethod
    def _row(r: dict[str, Any], totals: list[tuple[int, int]], journeys: Journeys) -> TouchpointRow:
        stages = journeys.config.stages
        i = int(r["idx"])
        n_with, k_with = int(r["unique_leads"]), int(r["converted"] or 0)
        n_stage, k_stage = totals[i]
        n_without, k_without = n_stage - n_with, k_stage - k_with
        rate_with = rate_without = lift = low = high = None
        if i < len(stages) - 1:
            rate_with = k_with / n_with if n_with else None
            rate_without = k_without / n_without if n_without else None
            if n_with and n_without:
                lift = k_with / n_with - k_without / n_without
                low, high = newcombe_interval(k_with, n_with, k_without, n_without)
        median = r["median_per_lead"]
        return TouchpointRow(
            item=r.get("item"), stage=stages[i].name, lane=stages[i].lane,
            kind=r["kind"] if r["kind"] is not None else "unknown", channel=r["channel"],
            automated=bool(r["automated"]), volume=int(r["volume"]), unique_leads=n_with,
            median_per_lead=None if median is None else float(median),
            n_with=n_with, n_without=n_without, rate_with=rate_with, rate_without=rate_without,
            lift=lift, lift_ci_low=low, lift_ci_high=high,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "stages": [asdict(s) for s in self.stages],
            "rows": [asdict(r) for r in self.rows],
            "items": [asdict(r) for r in self.items],
        }

    def to_markdown(self) -> str:
        lines = [
            "# Touchpoint inventory",
            "",
            "Each touchpoint counts in the stage the person was in when it happened. Conversion is to a "
            "later stage, for people in the stage with and without the touchpoint there; lift is the "
            "difference (95% Newcombe interval) and shows association, not cause.",
            "",
            "| Stage | Lane | Touchpoint | Channel | Actor | Volume | Leads | Median per lead "
            "| Conversion with | Conversion without | Lift (95% interval) |",
            "|---|---|---|---|---|---:|---:|---:|---:|---:|---|",
        ]
        lines += self._table_rows(self.rows)
        if self.items:
            lines += [
                "", "## Landing pages, page views, campaigns, nurtures and content", "",
                "The same columns for named items: landing pages and page views of the web visits of people "
                "stitched to a lead (anonymous visitors count in none; page views' volume is pages viewed), the "
                "campaigns their touches carry (a nurture: distinct e-mails in order, or declared one) and the content "
                "assets they consumed.", "",
                "| Stage | Lane | Item | Name | Channel | Volume | Leads | Median per lead | Conversion with "
                "| Conversion without | Lift (95% interval) |",
                "|---|---|---|---|---|---:|---:|---:|---:|---:|---|",
            ]
            lines += self._table_rows(self.items, named=True)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _table_rows(rows: list[TouchpointRow], named: bool = False) -> list[str]:
        lines = []
        for r in rows:
            lift = "-" if r.lift is None else f"{r.lift:+.1%} ({r.lift_ci_low:+.1%} to {r.lift_ci_high:+.1%})"
            who = md(r.item or "-") if named else ("automated" if r.automated else "human")
            what = f"{md(r.kind)} | {who} | {md(r.channel or '-')}" if named else \
                f"{md(r.kind)} | {md(r.channel or '-')} | {who}"
            lines.append(
                f"| {md(r.stage)} | {md(r.lane)} | {what} | {r.volume:,} | {r.unique_leads:,} | "
                f"{_number(r.median_per_lead, '{:.1f}')} | {_number(r.rate_with, '{:.1%}')} | "
                f"{_number(r.rate_without, '{:.1%}')} | {lift} |"
            )
        return lines

    def write_csv(self, path: Path | str) -> Path:
        """One row per touchpoint row, columns as :class:`TouchpointRow`; empty cells for None; text that a
        spreadsheet would run as a formula prefixed with ``'``."""
        path = Path(path)
        names = list(TouchpointRow.__dataclass_fields__)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for r in self.all_rows:
                writer.writerow(csv_row("" if v is None else v for v in asdict(r).values()))
        return path

    def write_xlsx(self, path: Path | str) -> Path:
        """A workbook with one sheet: bold frozen header, numbers as numbers, rates as percentages."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        path = Path(path)
        names = list(TouchpointRow.__dataclass_fields__)
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Touchpoints"
        sheet.append(names)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r in self.all_rows:
            xlsx_row(sheet, list(asdict(r).values()))
        percent = {"rate_with", "rate_without", "lift", "lift_ci_low", "lift_ci_high"}
        for j, name in enumerate(names, start=1):
            letter = sheet.cell(row=1, column=j).column_letter
            fmt = "0.0%" if name in percent else "0.0" if name == "median_per_lead" else None
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
            longest = max([len(name), *(8 if isinstance(v, float) else len(str(v))
                                        for v in (getattr(r, name) for r in self.all_rows))])
            sheet.column_dimensions[letter].width = min(40, longest + 2)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        book.save(path)
        return path


def _item_events(journeys: Journeys, as_of: datetime) -> ir.Table | None:
    """The selected people's named items up to ``as_of``: person_key, occurred_at, kind, channel, item and ``n``
    (what the item's volume counts: 1, or the pages a visit viewed); None when there are none to count."""
    people = journeys.people().select("person_id", "person_key")
    cut = ibis.timestamp(as_of)
    parts: list[ir.Table] = []

    def part(t: ir.Table, at: ir.Value, kind: ir.Value | str, channel: str | None, item: ir.Value | None,
             n: ir.Value | int = 1) -> ir.Table:
        return t.select(person_key=t.person_key, occurred_at=at.cast("timestamp"),
                        kind=kind if isinstance(kind, ir.Value) else ibis.literal(kind, "string"),
                        channel=ibis.literal(channel, "string"),
                        item=ibis.null("string") if item is None else item.cast("string"),
                        n=(ibis.literal(n) if isinstance(n, int) else n).cast("int64"))

    try:
        visits = journeys.backend.table("web_visits")
    except TableNotFound:  # a workspace not ingested since web sessions existed
        visits = None
    if visits is not None:
        v = visits.filter(visits.person_id.notnull() & (visits.started_at <= cut))
        v = v.join(people, "person_id")
        parts += [part(v.filter(v.landing_page.notnull()), v.started_at, "landing_page", "web", v.landing_page),
                  part(v, v.started_at, "page_views", "web", None, v.pageviews)]
    t = journeys.table("touchpoints")  # the touches carrying a campaign or an asset
    t = t.filter((t.occurred_at <= cut) & (t.actor.isnull() | (t.actor != HUMAN))
                 & (t.campaign.notnull() | t.asset.notnull()))
    t = t.join(journeys.table("leads").select("lead_id", "person_id"), "lead_id").join(people, "person_id")
    t = t.select("person_key", "occurred_at", "kind", campaign=blank_null(t.campaign), asset=blank_null(t.asset),
                 event=email_event(t.kind))
    mail = t.filter(t.campaign.notnull())
    nurtures = nurture_names(journeys)  # the nurture analysis's own decision
    nurture = mail.campaign.isin(nurtures) if nurtures else ibis.literal(False)
    parts.append(part(mail, mail.occurred_at, ibis.ifelse(nurture, "nurture", "campaign"), None, mail.campaign))
    content = t.filter(t.asset.notnull() & ~t.kind.isin(list(NOT_CONSUMED)))
    parts.append(part(content, content.occurred_at, "content", None, content.asset))
    return ibis.union(*parts) if parts else None


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)
