"""Persona profiles and suggested personas: a hand-made workspace, the generator's truth, analyze()."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import SharedGenerated, csv_text
from leadjourney.analysis import Filters, analyze
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.persona_clusters import (
    PersonaSuggestion,
    _round_between,
    distances,
    kmeans,
    nearest,
    silhouette,
    suggest_personas,
)
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.personas import personas_report
from leadjourney.analysis.stats import wilson_interval
from leadjourney.config import parse_config
from leadjourney.generate import Dirt
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)

RULES = """
[[personas]]
name = "big"
min_employees = 1000

[[personas]]
name = "tech"
job_title = "\\\\bcto\\\\b"

[[personas]]
name = "ghost"
industries = ["Nowhere"]
"""
GHOST_ONLY = '[[personas]]\nname = "ghost"\nindustries = ["Nowhere"]\n'

# big: A, B, C (>= 1000 employees); tech: D, E (CTO); unassigned: F, G; ghost: nobody
LEADS = [
    ("A", "seo", "open", "VP Sales", 5000, "Software"),
    ("B", "seo", "open", "VP Sales", 2000, "Software"),
    ("C", "referral", "disqualified", "CFO", 1500, None),
    ("D", "seo", "open", "CTO", 50, "Retail"),
    ("E", "referral", "open", "CTO", 20, "Retail"),
    ("F", "seo", "open", "Owner", 10, "Retail"),
    ("G", "direct", "open", None, None, None),
]
# Lead entries are derived at creation (Jan 1). A: MQL 2 d, SQL 3 d later; B: MQL at 4 d, waiting;
# D: MQL 1 d, SQL, Opportunity (Jan 14: the as-of date); F: MQL at 10 d
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-03T00:00:00Z
A,SQL,2026-01-06T00:00:00Z
B,MQL,2026-01-05T00:00:00Z
D,MQL,2026-01-02T00:00:00Z
D,SQL,2026-01-04T00:00:00Z
D,Opportunity,2026-01-14T00:00:00Z
F,MQL,2026-01-11T00:00:00Z
"""
TOUCHES = """lead_id,occurred_at,kind,channel,actor
A,2026-01-01T10:00:00Z,form_fill,seo,automated
A,2026-01-02T10:00:00Z,form_fill,seo,automated
A,2026-01-04T10:00:00Z,call,,human
D,2026-01-01T10:00:00Z,form_fill,seo,automated
D,2026-01-03T10:00:00Z,call,,human
F,2026-01-10T10:00:00Z,page_view,direct,automated
F,2026-01-12T10:00:00Z,page_view,direct,automated
"""


def _config(rules: str) -> str:
    text = (Path(__file__).resolve().parents[1] / "src" / "leadjourney" / "default_config.toml").read_text("utf-8")
    return text[:text.index("[[personas]]")] + rules + "\n" + text[text.index("[dedupe]"):]


def _hand_made(root: Path, rules: str) -> Workspace:
    ws = Workspace.init(root)
    ws.config_path.write_text(_config(rules), "utf-8")
    header = ["lead_id", "created_at", "source", "status", "job_title", "employee_count", "industry"]
    (root / "leads.csv").write_text(csv_text(header, [(i, "2026-01-01T00:00:00Z", *rest) for i, *rest in LEADS]))
    (root / "events.csv").write_text(EVENTS)
    (root / "touches.csv").write_text(TOUCHES)
    ws = Workspace.open(root)
    ws.set_sources([
        {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
        {"name": "events", "path": "events.csv", "format": "csv", "table": "stage_events"},
        {"name": "touches", "path": "touches.csv", "format": "csv", "table": "touchpoints"},
    ])
    ingest(Workspace.open(root))
    return Workspace.open(root)


def _profiles(ws: Workspace, **options: Any) -> PersonaProfiles:
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, now=NOW)
        try:
            return PersonaProfiles(**options).fit(journeys)
        finally:
            journeys.release()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _hand_made(tmp_path_factory.mktemp("personas_small") / "ws", RULES)


# ------------------------------------------------------------------ hand-made profiles


def test_people_reach_and_conversion_equal_hand_counts(small: Workspace) -> None:
    result = _profiles(small)
    assert [p.persona for p in result.profiles] == ["big", "tech", "ghost", "unassigned"]
    assert result.n_people == 7
    reached = {p.persona: [s.reached for s in p.stages] for p in result.profiles}
    assert reached == {
        "big": [3, 2, 1, 0],  # stage reach: Lead, MQL, SQL, Opportunity (no Customer entries: left out)
        "tech": [2, 1, 1, 1],
        "ghost": [0, 0, 0, 0],
        "unassigned": [2, 1, 0, 0],
    }
    big = result.profile("big")
    assert (big.people, big.share) == (3, pytest.approx(3 / 7))
    lead_mql = big.transitions[0]
    assert (lead_mql.entered, lead_mql.converted, lead_mql.rate) == (3, 2, pytest.approx(2 / 3))
    assert (lead_mql.ci_low, lead_mql.ci_high) == pytest.approx(wilson_interval(2, 3))
    assert (lead_mql.rest_entered, lead_mql.rest_converted) == (4, 2)
    assert big.transitions[-1].rate == 0.0 and big.transitions[-1].status.status == "too_few"  # 0 of 1
    assert [(s.value, s.people) for s in big.sources] == [("seo", 2), ("referral", 1)]


def test_a_persona_without_people(small: Workspace) -> None:
    ghost = _profiles(small).profile("ghost")
    assert (ghost.people, ghost.share, ghost.sources, ghost.touchpoints) == (0, None, [], [])
    assert all(t.entered == 0 and t.rate is None for t in ghost.transitions)
    assert all(t.median_days is None and t.n == 0 for t in ghost.times)
    assert ghost.firmographics.employees_median is None and ghost.differences == []
    assert "Nobody" in ghost.narrative()


def test_time_in_stage_by_hand(small: Workspace) -> None:
    result = _profiles(small, min_n=1)
    times = {p.persona: {(t.from_stage, t.to_stage): t for t in p.times} for p in result.profiles}
    big = times["big"][("Lead", "MQL")]
    # A 2 d, B 4 d; C is disqualified: neither converted nor waiting. KM: half converted at 2 d
    assert (big.n_completed, big.n_censored, big.basis, big.median_days) == (2, 0, "kaplan_meier", 2.0)
    # everyone: D 1, A 2, B 4, F 10 d; E and G waiting 13 d (to Jan 14) -> S(4 d) = 5/6 * 4/5 * 3/4 = 1/2
    assert big.overall_days == pytest.approx(4.0)
    assert big.ratio == pytest.approx(0.5) and big.differs
    assert times["big"][("MQL", "SQL")].median_days == pytest.approx(3.0)  # A 3 d; B censored at 9 d
    assert times["tech"][("Lead", "MQL")].median_days == pytest.approx(1.0)  # D 1 d; E censored
    unassigned = times["unassigned"][("Lead", "MQL")]
    assert unassigned.median_days == pytest.approx(10.0) and unassigned.ratio == pytest.approx(2.5)
    kinds = {(d.kind, d.from_stage, d.direction) for d in result.profile("unassigned").differences}
    assert ("time", "Lead", "longer") in kinds
    # with the default minimum of 30 people, none of these tiny transitions is called out
    assert all(not t.differs for p in _profiles(small).profiles for t in p.times)


def test_touchpoints_and_firmographics_by_hand(small: Workspace) -> None:
    result = _profiles(small)
    big = result.profile("big")
    assert [(t.kind, t.channel, t.volume) for t in big.touchpoints] == [("form_fill", "seo", 2), ("call", None, 1)]
    assert big.touchpoints[0].per_person == pytest.approx(2 / 3)
    tech = result.profile("tech")
    assert [(t.kind, t.volume) for t in tech.touchpoints] == [("call", 1), ("form_fill", 1)]  # ties by kind
    assert [(t.kind, t.volume) for t in result.profile("unassigned").touchpoints] == [("page_view", 2)]
    f = big.firmographics
    sizes = [5000, 2000, 1500]
    assert (f.employees_p10, f.employees_median, f.employees_p90) == pytest.approx(
        tuple(np.percentile(sizes, [10, 50, 90])))
    assert [(s.value, s.people) for s in f.titles] == [("VP Sales", 2), ("CFO", 1)]
    assert [(s.value, s.people, s.share) for s in f.industries] == [("Software", 2, pytest.approx(2 / 3))]
    unassigned = result.profile("unassigned").firmographics
    assert (unassigned.employees_known, unassigned.employees_median) == (1, 10)


def test_everything_unassigned(tmp_path: Path) -> None:
    ws = _hand_made(tmp_path / "ws", GHOST_ONLY)
    result = _profiles(ws)
    assert [(p.persona, p.people) for p in result.profiles] == [("ghost", 0), ("unassigned", 7)]
    unassigned = result.profile("unassigned")
    assert [s.reached for s in unassigned.stages] == [7, 4, 2, 1]  # no Customer entries: the stage is left out
    assert unassigned.share == 1.0
    assert unassigned.differences == []  # no other persona to differ from
    assert all(t.note == "too few" for t in unassigned.transitions)


def test_an_empty_selection(small: Workspace) -> None:
    """A selection of nobody is an error naming it, as for analyze (never a report of no one)."""
    from leadjourney.errors import EmptySelectionError

    with pytest.raises(EmptySelectionError, match=r"no people in the selection created from 2027-01-01"):
        personas_report(small, filters=Filters(date_from=date(2027, 1, 1)), now=NOW)


def test_rendering_is_json_and_markdown(small: Workspace) -> None:
    report = personas_report(small, now=NOW, k=2)
    data = json.loads(report.to_json())
    assert [p["persona"] for p in data["profiles"]["profiles"]] == ["big", "tech", "ghost", "unassigned"]
    md = report.to_markdown()
    for heading in ("# Buyer personas", "## big", "## tech", "## ghost", "## unassigned", "# Suggested personas"):
        assert heading + "\n" in md
    assert "| Lead → MQL | 3 | 2 | 66.7% |" in md
    assert data["suggestion"]["k"] == 2


def test_the_analyst_and_the_people_tables_are_the_same_rows(small: Workspace) -> None:
    """Both renderings of the profiles share their table rows (persona_profiles' row renderers): the people's
    document shows the analyst's transition tables row for row, names through display_name."""
    from leadjourney.reports.personas_doc import personas_markdown

    profiles = personas_report(small, now=NOW, k=2).profiles
    shared = ("| Transition |",)  # stage names read the same raw and displayed; sources and kinds do not
    analyst, people = _tables_under(profiles.to_markdown(), shared), _tables_under(personas_markdown(profiles), shared)
    assert len(analyst) > 10 and analyst == people
    tops = _tables_under(personas_markdown(profiles), ("| Top sources |",))
    assert "| SEO | 66.7% | Software | 66.7% | VP Sales | 66.7% |" in tops  # a source displayed, the rest raw


def _tables_under(markdown: str, headers: tuple[str, ...]) -> list[str]:
    """The rows of every table whose header starts with one of ``headers``, in order."""
    rows: list[str] = []
    inside = False
    for line in markdown.splitlines():
        inside = line.startswith(headers) or (inside and line.startswith("|"))
        if inside:
            rows.append(line)
    return rows


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="far"):
        PersonaProfiles(far=1.0)
    with pytest.raises(ValueError, match="k must"):
        PersonaSuggestion(k=0)
    with pytest.raises(ValueError, match="unknown feature groups"):
        PersonaSuggestion(weights={"colour": 1.0})


# ------------------------------------------------------------------ k-means pieces


def test_silhouette_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(4, 1, (20, 2)), rng.normal((0, 6), 1, (10, 2))])
    labels = np.repeat([0, 1, 2], [30, 20, 10])
    widths = []
    for i in range(len(x)):
        d = np.sqrt(((x - x[i]) ** 2).sum(1))
        same = labels == labels[i]
        a = d[same].sum() / (same.sum() - 1)
        b = min(d[labels == g].mean() for g in set(labels.tolist()) - {labels[i]})
        widths.append((b - a) / max(a, b))
    assert silhouette(distances(x), labels) == pytest.approx(np.mean(widths))


def test_kmeans_ignores_unknown_features_and_is_seeded() -> None:
    rng = np.random.default_rng(5)
    x = np.vstack([rng.normal((0, 0), 0.3, (50, 2)), rng.normal((5, 5), 0.3, (50, 2))])
    known = np.ones_like(x)
    known[::7, 0] = 0  # unknown first feature: stored as 0, which would pull these to the first blob
    x[known == 0] = 0.0
    centroids, _ = kmeans(x, known, 2, np.random.default_rng(0))
    labels = nearest(x, known, centroids)
    assert (labels[:50] == labels[0]).all() and (labels[50:] == labels[50]).all() and labels[0] != labels[50]
    again, _ = kmeans(x, known, 2, np.random.default_rng(0))
    assert np.array_equal(centroids, again)


@pytest.mark.parametrize(("lo", "hi", "cut"), [(95.0, 104.0, 100), (990.0, 1040.0, 1000), (120.0, 130.0, 125),
                                               (5.0, 5000.0, 200)])
def test_round_between(lo: float, hi: float, cut: int) -> None:
    assert _round_between(lo, hi) == cut


# ------------------------------------------------------------------ the generator's planted personas


@pytest.fixture(scope="module")
def planted(shared_generated: SharedGenerated) -> tuple[Workspace, dict[str, str]]:
    """The run's shared clean 8,000-lead set (also the analysis tests'), read only."""
    ws, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    truth = pq.read_table(data.out_dir / "ground_truth_leads.parquet", columns=["lead_id", "persona"])
    return ws, dict(zip(truth.column("lead_id").to_pylist(), truth.column("persona").to_pylist(), strict=True))


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_profile_funnels_and_times_equal_filtered_analyze(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, _ = planted
    result = _profiles(ws)
    assert {p.persona for p in result.profiles} == {"enterprise_it", "midmarket_ops", "smb_founder"}
    for profile in result.profiles:
        one = analyze(ws, filters=Filters(personas=(profile.persona,)), now=NOW)
        assert profile.people == one.n_people
        assert [(s.stage, s.reached) for s in profile.stages] == [(s.stage, s.reached) for s in one.funnel.stages]
        for mine, theirs in zip(profile.transitions, one.funnel.transitions, strict=True):
            assert (mine.entered, mine.converted) == (theirs.entered, theirs.converted)
            assert (mine.rate, mine.ci_low, mine.ci_high) == pytest.approx((theirs.rate, theirs.ci_low, theirs.ci_high))
        for mine, row in zip(profile.times, one.time_in_stage.rows, strict=True):
            expected = row.km_median_days if row.km_median_reached else row.median_days
            assert (mine.n_completed, mine.n_censored) == (row.n_completed, row.n_censored)
            assert mine.median_days == pytest.approx(expected)
    overall = analyze(ws, now=NOW).time_in_stage.rows
    for t, row in zip(result.profiles[0].times, overall, strict=True):
        assert t.overall_days == pytest.approx(row.km_median_days if row.km_median_reached else row.median_days)


def test_profiles_find_the_planted_differences(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, _ = planted
    result = _profiles(ws)
    times = {p.persona: {(t.from_stage, t.to_stage): t for t in p.times} for p in result.profiles}
    # planted time factors: enterprise 1.5x, smb 0.6x the base medians
    assert times["enterprise_it"][("MQL", "SQL")].ratio > 1.3
    assert times["smb_founder"][("MQL", "SQL")].ratio < 0.75
    smb = result.profile("smb_founder")
    assert any(d.kind == "time" and d.direction == "shorter" for d in smb.differences)
    assert "smb_founder" in result.to_markdown()


def test_touchpoints_equal_independent_sql(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, truth = planted
    result = _profiles(ws)
    with ws.connect(read_only=True) as con:
        as_of = Journeys(ibis.duckdb.from_connection(con), ws.config, now=NOW).as_of()
        rows = con.execute(
            "SELECT l.lead_id, t.kind, t.channel FROM touchpoints t JOIN leads l USING (lead_id) "
            "WHERE t.occurred_at <= ?", [as_of]).fetchall()
    volume = Counter((truth[lead], kind, channel) for lead, kind, channel in rows)
    for p in result.profiles:
        for t in p.touchpoints:
            assert t.volume == volume[(p.persona, t.kind, t.channel)]
        mine = [t.volume for t in p.touchpoints]
        assert mine == sorted((v for (q, _, _), v in volume.items() if q == p.persona), reverse=True)[:len(mine)]


def _adjusted_rand(a: list[Any], b: list[Any]) -> float:
    table = Counter(zip(a, b, strict=True))
    rows, cols = Counter(a), Counter(b)
    index = sum(math.comb(n, 2) for n in table.values())
    row_sum = sum(math.comb(n, 2) for n in rows.values())
    col_sum = sum(math.comb(n, 2) for n in cols.values())
    expected = row_sum * col_sum / math.comb(len(a), 2)
    return (index - expected) / ((row_sum + col_sum) / 2 - expected)


def test_suggested_clusters_recover_the_planted_personas(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, truth = planted
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, now=NOW)
        try:
            suggestion = suggest_personas(journeys, seed=0)
            assigned = suggestion.assignments().to_pyarrow().to_pylist()
            again = suggest_personas(journeys, seed=0)
        finally:
            journeys.release()
    assert len(assigned) == len(truth)
    ids = [r["person_id"] for r in assigned]
    ari = _adjusted_rand([r["cluster"] for r in assigned], [truth[i] for i in ids])
    assert ari >= 0.8
    assert len(suggestion.clusters) == 3 and max(suggestion.silhouettes, key=suggestion.silhouettes.get) == 3
    sizes = Counter(r["cluster"] for r in assigned)
    assert {c.cluster: c.people for c in suggestion.clusters} == dict(sizes)
    assert again.to_toml() == suggestion.to_toml()  # seeded: the same suggestion twice


def test_proposed_rules_parse_and_assign_the_planted_personas(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, truth = planted
    with ws.connect(read_only=True) as con:
        backend = ibis.duckdb.from_connection(con)
        journeys = Journeys(backend, ws.config, now=NOW)
        try:
            suggestion = suggest_personas(journeys)
        finally:
            journeys.release()
        config = parse_config(_config(suggestion.to_toml()))
        assert [p.name for p in config.personas] == [c.name for c in suggestion.clusters]
        people = Journeys(backend, config, now=NOW).people().select("person_id", "persona").to_pyarrow().to_pylist()
    pairs = Counter((r["persona"], truth[r["person_id"]]) for r in people)
    majority = {}
    for (proposed, planted_name), _ in sorted(pairs.items(), key=lambda kv: -kv[1]):
        majority.setdefault(proposed, planted_name)
    matched = sum(n for (proposed, planted_name), n in pairs.items() if majority.get(proposed) == planted_name
                  and proposed != "unassigned")
    assert matched / len(people) >= 0.9
    assert sorted(majority[c.name] for c in suggestion.clusters) == ["enterprise_it", "midmarket_ops", "smb_founder"]
    for c in suggestion.clusters:
        assert c.rule_recall is not None and c.rule_recall >= 0.9


def test_suggestion_with_a_given_k(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, truth = planted
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, now=NOW)
        try:
            two = PersonaSuggestion(k=2, sample_size=2000).fit(journeys)
        finally:
            journeys.release()
    assert len(two.clusters) == 2 and two.silhouettes == {} and two.n_sample <= 4000
    assert sum(c.people for c in two.clusters) == two.n_people == len(truth) == 8000
    assert "[[personas]]" in two.to_markdown()
