"""Touchpoint inventory: a hand-made workspace, the generator's planted journeys, and the exports."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from statsmodels.stats.proportion import confint_proportions_2indep

from conftest import csv_workspace, generated_workspace
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.touchpoints import TouchpointInventory, TouchpointRow, newcombe_interval
from leadjourney.generate import Dirt
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)

# ------------------------------------------------------------------ hand-made workspace (shared by
# test_paths.py and test_eventlog.py)

# A2 is A's duplicate (same e-mail): one person. G's MQL entry has no date.
LEADS = """lead_id,created_at,source,status,email,owner
A,2026-01-01T00:00:00Z,seo,open,a@example.com,Ann
A2,2026-01-02T00:00:00Z,seo,open,A@example.com,Bob
B,2026-01-01T00:00:00Z,seo,open,b@example.com,Ann
C,2026-01-01T00:00:00Z,paid search,disqualified,c@example.com,Bob
D,2026-01-01T00:00:00Z,seo,converted,d@example.com,Ann
E,2026-01-01T00:00:00Z,seo,open,e@example.com,Bob
F,2026-03-25T00:00:00Z,direct,open,f@example.com,Ann
G,2026-01-01T00:00:00Z,seo,open,g@example.com,Bob
"""
# Lead entries are derived from created_at. E enters MQL and SQL at the same instant.
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-03T00:00:00Z
A,SQL,2026-01-10T00:00:00Z
A,Opportunity,2026-03-25T00:00:00Z
B,MQL,2026-01-05T00:00:00Z
D,MQL,2026-01-02T00:00:00Z
D,SQL,2026-01-03T00:00:00Z
D,Opportunity,2026-01-04T00:00:00Z
D,Customer,2026-01-20T00:00:00Z
E,MQL,2026-01-08T00:00:00Z
E,SQL,2026-01-08T00:00:00Z
G,MQL,
G,SQL,2026-01-09T00:00:00Z
"""
# A: call at the very instant of the MQL entry (counts in MQL); A2's sales e-mail is A's, in MQL;
#    silent 01-11 -> 03-20 (68 d), re-engaged by the webinar, then Opportunity on 03-25.
# E's webinar at the instant of its MQL+SQL entry counts in SQL (the furthest). G has no touches.
# As-of: F's page view, 2026-04-01.
TOUCHES = """lead_id,occurred_at,kind,channel,actor
A,2026-01-01T10:00:00Z,form_fill,seo,automated
A,2026-01-02T00:00:00Z,email_open,email,automated
A,2026-01-03T00:00:00Z,call,,human
A2,2026-01-04T00:00:00Z,sales_email,,human
A,2026-01-05T00:00:00Z,call,,human
A,2026-01-11T00:00:00Z,email_open,email,automated
A,2026-03-20T00:00:00Z,webinar,events,automated
B,2026-01-01T08:00:00Z,form_fill,seo,automated
B,2026-01-04T00:00:00Z,email_open,email,automated
B,2026-01-04T12:00:00Z,email_open,email,automated
B,2026-01-06T00:00:00Z,call,,human
C,2026-01-02T00:00:00Z,form_fill,paid search,automated
C,2026-01-03T00:00:00Z,email_open,email,automated
D,2026-01-01T09:00:00Z,form_fill,seo,automated
D,2026-01-03T12:00:00Z,demo,,human
D,2026-01-15T00:00:00Z,meeting,,human
D,2026-01-21T00:00:00Z,email_open,email,automated
E,2026-01-02T00:00:00Z,form_fill,seo,automated
E,2026-01-08T00:00:00Z,webinar,events,automated
F,2026-04-01T00:00:00Z,page_view,direct,automated
"""
AS_OF = datetime(2026, 4, 1)


def hand_workspace(root: Path, leads: str = LEADS, events: str = EVENTS, touches: str = TOUCHES) -> Workspace:
    """A workspace ingested from the hand-made CSVs above (or replacements)."""
    return csv_workspace(root, leads=leads, stage_events=events, touchpoints=touches)



@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return hand_workspace(tmp_path_factory.mktemp("small") / "ws")


@pytest.fixture(scope="module")
def inventory(small: Workspace) -> Iterator[TouchpointInventory]:
    with open_journeys(small, now=NOW) as journeys:
        yield TouchpointInventory().fit(journeys)


def _row(inv: TouchpointInventory, stage: str, kind: str, channel: str | None = None) -> TouchpointRow:
    found = [r for r in inv.rows if (r.stage, r.kind, r.channel) == (stage, kind, channel)]
    assert len(found) == 1, (stage, kind, channel, found)
    return found[0]


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(56, 70, 48, 80), (9, 10, 3, 10), (1, 1, 0, 1), (0, 20, 5, 20)])
def test_newcombe_interval_equals_statsmodels(k1: int, n1: int, k2: int, n2: int) -> None:
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert newcombe_interval(k1, n1, k2, n2) == pytest.approx((low, high), abs=1e-9)


# ------------------------------------------------------------------ hand-made workspace


def test_stage_totals_by_hand(inventory: TouchpointInventory) -> None:
    assert inventory.as_of == AS_OF
    got = {s.stage: (s.lane, s.people, s.converted, s.touchpoints) for s in inventory.stages}
    # Lead: everyone (7), converted A B D E G; MQL: dated entries A B D E (G's is undated)
    assert got == {
        "Lead": ("Awareness", 7, 5, 10),
        "MQL": ("Consideration", 4, 3, 4),
        "SQL": ("Handoff", 4, 2, 4),
        "Opportunity": ("Decision", 2, 1, 1),
        "Customer": ("Decision", 1, None, 1),
    }
    assert sum(r.volume for r in inventory.rows) == 20  # every touch, once


def test_rows_by_hand(inventory: TouchpointInventory) -> None:
    seo = _row(inventory, "Lead", "form_fill", "seo")
    # A B D E had it in Lead, all converted; without: C F G, of whom G converted
    assert (seo.volume, seo.unique_leads, seo.median_per_lead, seo.automated) == (4, 4, 1.0, True)
    assert (seo.n_with, seo.n_without, seo.rate_with) == (4, 3, 1.0)
    assert seo.rate_without == pytest.approx(1 / 3) and seo.lift == pytest.approx(2 / 3)
    assert (seo.lift_ci_low, seo.lift_ci_high) == pytest.approx(newcombe_interval(4, 4, 1, 3))
    assert seo.lane == "Awareness"

    opens = _row(inventory, "Lead", "email_open", "email")  # A 1, B 2, C 1
    assert (opens.volume, opens.unique_leads, opens.median_per_lead) == (4, 3, 1.0)
    assert opens.rate_with == pytest.approx(2 / 3) and opens.rate_without == pytest.approx(3 / 4)

    calls = _row(inventory, "MQL", "call")  # A twice (one at the MQL instant), B once
    assert (calls.volume, calls.unique_leads, calls.median_per_lead, calls.automated) == (3, 2, 1.5, False)
    assert (calls.n_with, calls.n_without, calls.rate_with, calls.rate_without) == (2, 2, 0.5, 1.0)
    assert calls.lift == pytest.approx(-0.5)

    merged = _row(inventory, "MQL", "sales_email")  # on A2, A's duplicate record
    assert (merged.volume, merged.unique_leads, merged.n_without) == (1, 1, 3)

    webinar = _row(inventory, "SQL", "webinar", "events")  # A's, and E's at its MQL+SQL instant
    assert (webinar.volume, webinar.unique_leads, webinar.rate_with, webinar.rate_without) == (2, 2, 0.5, 0.5)
    assert webinar.lift == pytest.approx(0.0)

    last = _row(inventory, "Customer", "email_open", "email")
    assert (last.volume, last.n_with, last.n_without) == (1, 1, 0)
    assert last.rate_with is None and last.rate_without is None and last.lift is None and last.lift_ci_low is None
    assert not any(r.stage == "Lead" and r.kind in ("call", "webinar") for r in inventory.rows)


def test_filtered_and_empty_selection(small: Workspace) -> None:
    with open_journeys(small, Filters(sources=("paid_search",)), NOW) as journeys:
        only_c = TouchpointInventory().fit(journeys)
    assert [(r.stage, r.kind, r.channel, r.volume) for r in only_c.rows] == [
        ("Lead", "email_open", "email", 1), ("Lead", "form_fill", "paid_search", 1)
    ]
    assert only_c.rows[0].n_without == 0 and only_c.rows[0].lift is None
    with open_journeys(small, Filters(date_from=date(2027, 1, 1)), NOW) as journeys:
        empty = TouchpointInventory().fit(journeys)
    assert empty.rows == [] and all(s.people == 0 for s in empty.stages)
    assert "| Stage |" in empty.to_markdown()


def test_exports(inventory: TouchpointInventory, tmp_path: Path) -> None:
    names = list(TouchpointRow.__dataclass_fields__)
    with inventory.write_csv(tmp_path / "t.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == names and len(rows) == len(inventory.rows)
    assert [int(r["volume"]) for r in rows] == [r.volume for r in inventory.rows]
    assert rows[-1]["lift"] == ""  # None -> empty cell

    sheet = load_workbook(inventory.write_xlsx(tmp_path / "t.xlsx")).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header == names and all(c.font.bold for c in sheet[1])
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(values) == len(inventory.rows)
    first = dict(zip(header, values[0], strict=True))
    assert isinstance(first["volume"], int) and first["volume"] == inventory.rows[0].volume
    assert first["lift"] == pytest.approx(inventory.rows[0].lift)
    lift_col = header.index("lift") + 1
    assert sheet.cell(row=2, column=lift_col).number_format == "0.0%"
    assert sheet.column_dimensions["A"].width >= len("Opportunity")

    text = inventory.to_markdown()
    assert "| MQL | Consideration | call | - | human | 3 | 2 | 1.5 | 50.0% | 100.0% | -50.0%" in text
    data = inventory.to_dict()
    assert len(data["rows"]) == len(inventory.rows) and data["stages"][0]["people"] == 7


# ------------------------------------------------------------------ the generator's truth


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    root = tmp_path_factory.mktemp("clean") / "ws"
    ws, data = generated_workspace(root, n_leads=4000, seed=7, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    return ws, data.out_dir


def _moment(value: datetime | None) -> np.datetime64:
    """A naive UTC instant (NaT for none) from the generator's files."""
    return np.datetime64("NaT", "us") if value is None else np.datetime64(value.replace(tzinfo=None), "us")


def _independent_inventory(out_dir: Path) -> tuple[dict[tuple[Any, ...], dict[str, Any]], list[int]]:
    """The inventory from the generated files and the planted stage timestamps, in numpy."""
    truth = pq.read_table(out_dir / "ground_truth_leads.parquet").to_pydict()
    touches = pq.read_table(out_dir / "touchpoints.parquet").to_pydict()
    columns = ("lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at")
    row_of = {lead: i for i, lead in enumerate(truth["lead_id"])}
    at = np.array([[_moment(v) for v in truth[c]] for c in columns]).T
    furthest = np.array([["Lead", "MQL", "SQL", "Opportunity", "Customer"].index(s) for s in truth["furthest_stage"]])
    in_stage = [np.ones(len(furthest), bool)] + [~np.isnat(at[:, i]) for i in range(1, 5)]
    per_person: dict[tuple[Any, ...], int] = defaultdict(int)
    for lead, when, kind, channel, actor in zip(touches["lead_id"], touches["occurred_at"], touches["kind"],
                                                touches["channel"], touches["actor"], strict=True):
        i = row_of[lead]
        t = _moment(when)
        stage = max([s for s in range(1, 5) if not np.isnat(at[i, s]) and at[i, s] <= t], default=0)
        per_person[(stage, kind, channel, actor != "human", i)] += 1
    groups: dict[tuple[Any, ...], list[tuple[int, int]]] = defaultdict(list)
    for (stage, kind, channel, automated, i), n in per_person.items():
        groups[(stage, kind, channel, automated)].append((i, n))
    out = {}
    for key, members in groups.items():
        stage = key[0]
        people = np.array([i for i, _ in members])
        counts = np.array([n for _, n in members])
        population = in_stage[stage]
        converted = furthest > stage
        k_with = int(converted[people].sum())
        n_without = int(population.sum()) - len(people)
        k_without = int((population & converted).sum()) - k_with
        out[key] = {
            "volume": int(counts.sum()), "unique_leads": len(people), "median_per_lead": float(np.median(counts)),
            "n_with": len(people), "n_without": n_without,
            "rate_with": k_with / len(people) if stage < 4 else None,
            "rate_without": (k_without / n_without if n_without else None) if stage < 4 else None,
        }
    return out, [int(p.sum()) for p in in_stage]


def test_inventory_equals_an_independent_computation(clean: tuple[Workspace, Path]) -> None:
    ws, out_dir = clean
    with open_journeys(ws, now=NOW) as journeys:
        inv = TouchpointInventory().fit(journeys)
    expected, populations = _independent_inventory(out_dir)
    stages = ["Lead", "MQL", "SQL", "Opportunity", "Customer"]
    got = {
        (stages.index(r.stage), r.kind, r.channel, r.automated): {
            "volume": r.volume, "unique_leads": r.unique_leads, "median_per_lead": r.median_per_lead,
            "n_with": r.n_with, "n_without": r.n_without, "rate_with": r.rate_with, "rate_without": r.rate_without,
        }
        for r in inv.rows
    }
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert got[key] == pytest.approx(want), key
    assert [s.people for s in inv.stages] == populations
    # the human/automated split of the generator: calls, demos, meetings and sales e-mails are human
    assert {r.kind for r in inv.rows if not r.automated} == {"call", "demo", "meeting", "sales_email"}


def test_xlsx_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    touches = TOUCHES.replace("F,2026-04-01T00:00:00Z,page_view,direct", 'F,2026-04-01T00:00:00Z,page_view,"=SUM(1,2)"')
    ws = hand_workspace(tmp_path / "ws", touches=touches)
    with open_journeys(ws, now=NOW) as journeys:
        inv = TouchpointInventory().fit(journeys)
    sheet = load_workbook(inv.write_xlsx(tmp_path / "t.xlsx")).active
    assert sheet is not None
    cells = [row[3] for row in sheet.iter_rows(min_row=2) if row[2].value == "page_view"]
    assert [(c.value, c.data_type) for c in cells] == [("=sum(1,2)", "s")]
