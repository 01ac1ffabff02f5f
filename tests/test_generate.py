"""The synthetic data generator: determinism, planted dirt that matches its ground truth, exact timestamps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from leadjourney.config import default_config_text, normalize_key, parse_config
from leadjourney.generate import Dirt, GeneratedData, generate

END = date(2026, 3, 15)  # the period (180 days) spans both 2025/26 daylight-saving changes
N = 12_000
SEED = 11
TABLES = ("leads", "stage_events", "touchpoints", "opportunities")
CONFIG = parse_config(default_config_text())
STAGE_ALIASES = CONFIG.stage_aliases()
CHANNEL_ALIASES = CONFIG.channel_aliases()

# epoch seconds of a timestamp string in any of the generator's formats; naive = New York wall clock
EPOCH = r"""CASE
    WHEN nullif(trim(x), '') IS NULL THEN NULL
    WHEN regexp_matches(x, '(Z|[+-]\d\d:\d\d)$')
        THEN epoch(strptime(regexp_replace(x, 'Z$', '+00:00'), '%Y-%m-%dT%H:%M:%S%z'))
    ELSE epoch(timezone('America/New_York', strptime(x, '%Y-%m-%d %H:%M:%S')))
END"""


class Files:
    """The generated files as DuckDB views (CSV read as text), plus the ground truth."""

    def __init__(self, data: GeneratedData) -> None:
        self.data = data
        self.truth: dict[str, Any] = json.loads(data.ground_truth_path.read_text("utf-8"))
        self.planted = self.truth["planted"]
        self.events: list[tuple[str, str | None, str, float | None]] | None = None
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"CREATE MACRO ep(x) AS {EPOCH}")
        for table, path in data.files.items():
            reader = (
                f"read_parquet('{path}')"
                if path.suffix == ".parquet"
                else f"read_csv('{path}', all_varchar = true)"
            )
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM {reader}")
        self.con.execute(
            f"CREATE VIEW truth AS SELECT * FROM read_parquet('{data.truth_leads_path}')"
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.con.execute(sql).fetchall()]

    def ids(self, sql: str) -> set[Any]:
        return {r[0] for r in self.rows(sql)}

    def one(self, sql: str) -> Any:
        return self.rows(sql)[0][0]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    files = Files(
        generate(tmp_path_factory.mktemp("dirty") / "data", n_leads=N, seed=SEED, end=END)
    )
    yield files
    files.con.close()


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    out = tmp_path_factory.mktemp("csv") / "data"
    files = Files(generate(out, n_leads=N, seed=SEED, end=END, file_format="csv"))
    yield files
    files.con.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    out = tmp_path_factory.mktemp("clean") / "data"
    files = Files(generate(out, n_leads=N, seed=SEED, end=END, dirt=Dirt.none()))
    yield files
    files.con.close()


def _stage_of(spelling: str) -> str | None:
    return STAGE_ALIASES.get(normalize_key(spelling))


def _numbers_as_floats(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [
        tuple(str(float(v)) if re.fullmatch(r"\d+(\.\d+)?", str(v)) else v for v in r) for r in rows
    ]


def _all_bytes(data: GeneratedData) -> dict[str, bytes]:
    paths = [*data.files.values(), data.ground_truth_path, data.truth_leads_path]
    return {p.name: p.read_bytes() for p in paths}


# --- determinism and API -------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", n_leads=3000, seed=3, end=END)
    second = generate(tmp_path / "b", n_leads=3000, seed=3, end=END)
    other = generate(tmp_path / "c", n_leads=3000, seed=4, end=END)
    assert _all_bytes(first) == _all_bytes(second)
    assert _all_bytes(first)["leads.parquet"] != _all_bytes(other)["leads.parquet"]
    assert first.summary == second.summary


def test_sources_are_ready_config_entries(dirty: Files) -> None:
    data = dirty.data
    assert [s["table"] for s in data.sources] == [*TABLES, "web_sessions"]
    for src in data.sources:
        assert (data.out_dir.parent / src["path"]).resolve() == data.files[src["table"]].resolve()
        if src["table"] == "web_sessions":  # GA4's BigQuery export
            assert src["format"] == "ga4_bigquery" and src["name"] == "generated_web" and src["timezone"] == "UTC"
            continue
        assert src["format"] == "parquet" and src["name"] == f"generated_{src['table']}"
        assert src["timezone"] == ("UTC" if src["table"] == "touchpoints" else "America/New_York")
    entries = "".join(
        "[[sources]]\n" + "".join(f'{k} = "{v}"\n' for k, v in src.items()) for src in data.sources
    )
    config = parse_config(default_config_text() + "\n" + entries)
    assert [s.name for s in config.sources] == [s["name"] for s in data.sources]


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format: expected one of parquet, csv"):
        generate(tmp_path, n_leads=10, file_format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_leads"):
        generate(tmp_path, n_leads=0)
    with pytest.raises(ValueError, match="missing_source"):
        Dirt(missing_source=1.5)


def test_row_counts_add_up(dirty: Files) -> None:
    p, summary = dirty.planted, dirty.data.summary
    assert summary["leads_rows"] == N + len(p["duplicate_people"]) + p["exact_duplicate_lead_rows"]
    assert dirty.one("SELECT count(*) FROM leads") == summary["leads_rows"]
    assert dirty.one("SELECT count(DISTINCT lead_id) FROM leads") == N + len(p["duplicate_people"])
    assert dirty.one("SELECT count(*) FROM truth") == N
    per_lead = dirty.truth["realized"]["touchpoints"]["per_lead"]
    assert 6 <= per_lead <= 10


# --- clean data ------------------------------------------------------------------------------------


def test_dirt_none_plants_nothing(clean: Files) -> None:
    for kind, value in clean.planted.items():
        if kind in ("email_programs", "web"):  # business plants, not dirt
            continue
        assert value in (0, [], {"count": 0, "lead_ids": []}), kind
    assert clean.one("SELECT count(*) FROM leads") == N
    assert clean.one("SELECT count(*) - count(DISTINCT lower(trim(email))) FROM leads") == 0
    assert clean.one("SELECT count(*) FROM leads WHERE NOT ends_with(created_at, 'Z')") == 0
    assert clean.one("SELECT count(*) FROM stage_events WHERE nullif(entered_at, '') IS NULL") == 0
    assert clean.one("SELECT count(*) FROM leads WHERE nullif(trim(source), '') IS NULL") == 0
    sources = clean.ids("SELECT DISTINCT source FROM leads")
    assert all(normalize_key(s) in CHANNEL_ALIASES for s in sources)
    assert all(_stage_of(s) for s in clean.ids("SELECT DISTINCT stage FROM stage_events"))
    assert clean.one("SELECT count(*) FROM opportunities o ANTI JOIN leads l USING (lead_id)") == 0
    assert clean.one("SELECT count(*) FROM touchpoints t ANTI JOIN leads l USING (lead_id)") == 0
    titles = clean.ids("SELECT DISTINCT job_title FROM leads")
    assert not any(re.search(r.pattern, t, re.I) for r in CONFIG.exclusions for t in titles)


def test_dirt_leaves_the_simulation_untouched(dirty: Files, clean: Files) -> None:
    assert dirty.data.truth_leads_path.read_bytes() == clean.data.truth_leads_path.read_bytes()
    assert dirty.truth["realized"] == clean.truth["realized"]


# --- planted dirt matches the files exactly ---------------------------------------------------------


def _events(files: Files) -> list[tuple[str, str | None, str, float | None]]:
    """Stage events as (lead_id, canonical stage or None, raw spelling, epoch seconds or None)."""
    if files.events is None:
        rows = files.rows("SELECT lead_id, stage, ep(entered_at) FROM stage_events")
        files.events = [(lead, _stage_of(stage), stage, at) for lead, stage, at in rows]
    return files.events


def test_missing_timestamps_are_exactly_the_blank_ones(dirty: Files) -> None:
    blank = {(lead, stage) for lead, stage, _, at in _events(dirty) if at is None}
    planted = {tuple(pair) for pair in dirty.planted["missing_timestamps"]}
    assert planted and blank == planted
    assert all(stage != "Lead" for _, stage in planted)


def test_skipped_out_of_order_and_regressions_are_exact(dirty: Files) -> None:
    by_lead: dict[str, list[tuple[int, float | None]]] = {}
    order = list(CONFIG.stage_names)
    for lead, stage, _, at in _events(dirty):
        if stage is not None:
            by_lead.setdefault(lead, []).append((order.index(stage), at))
    skipped = {
        lead
        for lead, ev in by_lead.items()
        if max(i for i, _ in ev) >= 2 and 1 not in {i for i, _ in ev}
    }
    assert skipped == set(dirty.planted["skipped_stages"]) != set()

    created = dict(dirty.rows("SELECT lead_id, ep(created_at) FROM leads"))
    early = {
        lead
        for lead, ev in by_lead.items()
        if any(at is not None and at < created[lead] for _, at in ev)
    }
    assert early == set(dirty.planted["out_of_order"]) != set()

    regressed = set()
    for lead, ev in by_lead.items():
        sql = [at for i, at in ev if i == 2 and at is not None]
        if sql and any(i == 1 and at is not None and at > sql[0] for i, at in ev):
            regressed.add(lead)
    assert regressed == set(dirty.planted["regressions"]) != set()


def test_unknown_spellings_and_missing_sources_are_exact(dirty: Files) -> None:
    unknown_stages = {(lead, raw) for lead, stage, raw, _ in _events(dirty) if stage is None}
    assert unknown_stages == {tuple(p) for p in dirty.planted["unknown_stages"]} != set()
    sources = dirty.rows("SELECT DISTINCT lead_id, source FROM leads")
    blank = {lead for lead, s in sources if s is None or not s.strip()}
    assert blank == set(dirty.planted["missing_source"]) != set()
    unknown = {
        (lead, s)
        for lead, s in sources
        if s and s.strip() and normalize_key(s) not in CHANNEL_ALIASES
    }
    assert unknown == {tuple(p) for p in dirty.planted["unknown_channels"]} != set()


def test_duplicate_people_normalize_to_their_original(dirty: Files) -> None:
    leads = {
        r[0]: r[1:] for r in dirty.rows("SELECT DISTINCT lead_id, email, ep(created_at) FROM leads")
    }
    pairs = dirty.planted["duplicate_people"]
    assert pairs
    truth_ids = dirty.ids("SELECT lead_id FROM truth")
    for copy, original in pairs:
        (email_c, at_c), (email_o, at_o) = leads[copy], leads[original]
        assert email_c != email_o and email_c.strip().lower() == email_o.strip().lower()
        assert at_c > at_o and copy not in truth_ids and original in truth_ids
    emails = [email.strip().lower() for email, _ in leads.values()]
    assert len(emails) - len(set(emails)) == len(pairs)


def test_exact_duplicates_future_dates_and_orphans(dirty: Files) -> None:
    p = dirty.planted
    assert (
        dirty.one(
            "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM leads)) FROM leads"
        )
        == p["exact_duplicate_lead_rows"]
        > 0
    )
    assert (
        dirty.one(
            "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM stage_events)) "
            "FROM stage_events"
        )
        == p["exact_duplicate_event_rows"]
        > 0
    )
    future = dirty.ids(
        f"SELECT lead_id FROM leads WHERE year(to_timestamp(ep(created_at))) > {END.year}"
    )
    assert future == set(p["future_dates"]) != set()
    # the typo'd lead has nothing but its Lead event, so no event precedes the typo'd creation
    stages = dirty.rows(
        "SELECT lead_id, stage FROM stage_events WHERE lead_id IN (SELECT lead_id FROM leads "
        f"WHERE year(to_timestamp(ep(created_at))) > {END.year})"
    )
    assert {_stage_of(s) for _, s in stages} == {"Lead"}
    orphan_opps = dirty.ids(
        "SELECT opportunity_id FROM opportunities o ANTI JOIN leads l USING (lead_id)"
    )
    assert orphan_opps == set(p["orphan_opportunities"]) != set()
    orphan_touch = dirty.rows("SELECT lead_id FROM touchpoints t ANTI JOIN leads l USING (lead_id)")
    assert len(orphan_touch) == p["orphan_touchpoints"]["count"]
    assert {r[0] for r in orphan_touch} == set(p["orphan_touchpoints"]["lead_ids"]) != set()


def test_unqualified_contacts_match_the_exclusion_rules(dirty: Files) -> None:
    found = {}
    for lead, title in dirty.rows("SELECT DISTINCT lead_id, job_title FROM leads"):
        rule = next((r.name for r in CONFIG.exclusions if re.search(r.pattern, title, re.I)), None)
        if rule:
            found[lead] = rule
    assert found == dict(dirty.planted["unqualified_contacts"]) != {}
    advanced = {lead for lead, stage, _, _ in _events(dirty) if stage not in (None, "Lead")}
    assert set(found) & advanced == set(dirty.planted["unqualified_in_funnel"]) != set()


# --- timestamps -------------------------------------------------------------------------------------


def test_every_zone_format_denotes_the_true_instant(dirty: Files) -> None:
    kinds = dict(
        dirty.rows(r"""
        SELECT CASE WHEN ends_with(created_at, 'Z') THEN 'utc'
                    WHEN regexp_matches(created_at, '[+-]\d\d:\d\d$') THEN 'offset' ELSE 'naive' END AS k, count(*)
        FROM leads GROUP BY k""")
    )
    assert set(kinds) == {"utc", "offset", "naive"}
    assert all(0.25 < c / sum(kinds.values()) < 0.42 for c in kinds.values())
    future = ", ".join(f"'{x}'" for x in dirty.planted["future_dates"])
    wrong = dirty.one(f"""
        SELECT count(*) FROM leads l JOIN truth t USING (lead_id)
        WHERE l.lead_id NOT IN ({future}) AND ep(l.created_at) <> epoch(t.created_at)""")
    assert wrong == 0
    # SQL and Customer events are never moved or blanked except where planted: they match the truth exactly
    truth = dict(
        dirty.rows("""
        SELECT lead_id || '/SQL', epoch(sql_at) FROM truth WHERE sql_at IS NOT NULL
        UNION ALL SELECT lead_id || '/Customer', epoch(customer_at) FROM truth WHERE customer_at IS NOT NULL""")
    )
    events = {
        f"{lead}/{stage}": at
        for lead, stage, _, at in _events(dirty)
        if stage in ("SQL", "Customer") and at is not None
    }
    assert len(events) > 100 and all(truth[key] == at for key, at in events.items())
    naive_dst = dirty.one(r"""SELECT count(*) FROM stage_events
        WHERE month(try_strptime(entered_at, '%Y-%m-%d %H:%M:%S')) IN (11, 3)""")
    assert naive_dst > 0


def test_nothing_is_observed_after_the_end(dirty: Files) -> None:
    end = dirty.one(f"SELECT epoch(TIMESTAMP '{END.isoformat()}')")
    future = ", ".join(f"'{x}'" for x in dirty.planted["future_dates"])
    assert dirty.one(f"SELECT max(ep(created_at)) FROM leads WHERE lead_id NOT IN ({future})") < end
    assert (
        dirty.one(f"SELECT max(ep(entered_at)) FROM stage_events WHERE lead_id NOT IN ({future})")
        < end
    )
    assert dirty.one("SELECT max(greatest(ep(created_at), ep(closed_at))) FROM opportunities") < end
    assert dirty.one("SELECT max(epoch(occurred_at)) FROM touchpoints") < end
    columns = [
        "lead_at",
        "mql_at",
        "sql_at",
        "opportunity_at",
        "customer_at",
        "first_human_touch_at",
        "went_dark_at",
        "re_engaged_at",
        "disqualified_at",
        "opportunity_closed_at",
    ]
    assert (
        dirty.one(f"SELECT max(greatest({', '.join(f'epoch({c})' for c in columns)})) FROM truth")
        < end
    )
    # censoring leaves leads in open stages: many opportunities are still open at the end
    assert dirty.one("SELECT count(*) FROM opportunities WHERE nullif(closed_at, '') IS NULL") > 0


def test_csv_and_parquet_hold_the_same_data(dirty: Files, dirty_csv: Files) -> None:
    for table in ("leads", "stage_events", "opportunities"):
        cols = dirty.rows(f"SELECT column_name FROM (DESCRIBE {table})")
        text = ", ".join(f"nullif(trim(CAST({c[0]} AS VARCHAR)), '')" for c in cols)
        a = dirty.rows(f"SELECT {text} FROM {table}")
        b = dirty_csv.rows(f"SELECT {text} FROM {table}")
        assert _numbers_as_floats(a) == _numbers_as_floats(b), table
    touch = "SELECT lead_id, {}, kind, actor, channel, campaign, asset FROM touchpoints"
    assert dirty.rows(touch.format("epoch(occurred_at)")) == dirty_csv.rows(
        touch.format("ep(occurred_at)")
    )
    assert (
        dirty.data.ground_truth_path.read_bytes() == dirty_csv.data.ground_truth_path.read_bytes()
    )
    assert dirty.data.truth_leads_path.read_bytes() == dirty_csv.data.truth_leads_path.read_bytes()


# --- the planted behaviour --------------------------------------------------------------------------


def test_seo_converts_about_twice_as_well_as_paid_search(dirty: Files) -> None:
    rates = dict(
        dirty.rows("""
        SELECT channel, count(sql_at) / count(mql_at) FROM truth GROUP BY channel""")
    )
    assert 1.5 < rates["seo"] / rates["paid_search"] < 2.7
    assert rates["referral"] > rates["paid_search"] > rates["content_syndication"]
    overall = dirty.one("SELECT count(sql_at) / count(mql_at) FROM truth")
    assert 0.15 <= overall <= 0.25
    realized = dirty.truth["realized"]
    assert realized["conversion_by_channel"]["seo"]["MQL->SQL"] == pytest.approx(
        rates["seo"], abs=1e-6
    )
    planted = dirty.truth["params"]["channels"]
    assert (
        planted["seo"]["base_probability"]["MQL->SQL"]
        == 2 * planted["paid_search"]["base_probability"]["MQL->SQL"]
    )


def test_stages_are_entered_in_order_and_end_where_the_lead_stands(dirty: Files) -> None:
    stats = dirty.rows("""
        SELECT count(*) FILTER (WHERE mql_at <= created_at OR sql_at <= mql_at OR opportunity_at <= sql_at
                                      OR customer_at <= opportunity_at),
               count(*) FILTER (WHERE (sql_at IS NOT NULL AND mql_at IS NULL)
                                      OR (customer_at IS NOT NULL AND opportunity_at IS NULL)),
               count(*) FILTER (WHERE disqualified AND status <> 'disqualified'),
               count(*) FILTER (WHERE status = 'converted' AND customer_at IS NULL),
               count(*) FILTER (WHERE disqualified_at < created_at)
        FROM truth""")[0]
    assert stats == (0, 0, 0, 0, 0)
    mismatch = dirty.one("""SELECT count(*) FROM (SELECT DISTINCT lead_id, status, disqualify_reason FROM leads) l
                            JOIN truth t USING (lead_id)
                            WHERE l.status <> t.status OR l.disqualify_reason IS DISTINCT FROM t.disqualify_reason""")
    assert mismatch == 0
    assert dirty.one("SELECT count(DISTINCT disqualify_reason) FROM truth") == 5
    won = dirty.rows("""SELECT count(*), count(*) FILTER (WHERE o.is_won = t.is_won AND o.amount = t.amount
                                                         AND ep(o.created_at) = epoch(t.opportunity_at))
                        FROM opportunities o JOIN truth t USING (opportunity_id)""")[0]
    assert won[0] > 0 and won[0] == won[1] == dirty.one("SELECT count(opportunity_id) FROM truth")
    medians = dict(dirty.rows("SELECT persona, median(amount) FROM truth GROUP BY persona"))
    assert medians["enterprise_it"] > medians["midmarket_ops"] > medians["smb_founder"]


def test_touchpoints_follow_the_journey(dirty: Files) -> None:
    first = dirty.rows("""
        SELECT count(*) FILTER (WHERE f.kind <> 'form_fill' OR f.ts <> t.created_at), count(*)
        FROM (SELECT lead_id, arg_min(kind, occurred_at) AS kind, min(occurred_at) AS ts
              FROM touchpoints GROUP BY lead_id) f JOIN truth t USING (lead_id)""")[0]
    assert first == (0, N)
    human = dirty.rows("""
        SELECT count(*) FILTER (WHERE t.mql_at IS NULL OR p.occurred_at < t.mql_at), count(*)
        FROM touchpoints p JOIN truth t USING (lead_id) WHERE p.actor = 'human'""")[0]
    assert human[0] == 0 and human[1] > 0
    assert (
        dirty.one("""SELECT count(*) FROM truth t
        LEFT JOIN (SELECT lead_id, min(occurred_at) AS ts FROM touchpoints WHERE actor = 'human' GROUP BY 1) h
        USING (lead_id) WHERE h.ts IS DISTINCT FROM t.first_human_touch_at""")
        == 0
    )
    assert (
        dirty.one("SELECT count(*) FILTER (WHERE never_contacted) FROM truth")
        == dirty.truth["realized"]["speed_to_lead"]["never_contacted"]
        > 0
    )


def test_dark_leads_are_exactly_the_planted_silences(dirty: Files) -> None:
    # the silence after a touch: to the next touch, or for open leads to the end of the period
    gap = f"coalesce(g.nxt, CASE WHEN t.status = 'open' THEN TIMESTAMP '{END.isoformat()}' ELSE g.ts END) - g.ts"
    gaps = dirty.rows(f"""
        WITH g AS (
            SELECT lead_id, occurred_at AS ts, lead(occurred_at) OVER w AS nxt, lead(kind) OVER w AS nkind
            FROM touchpoints WINDOW w AS (PARTITION BY lead_id ORDER BY occurred_at))
        SELECT t.lead_id, t.went_dark_at, t.re_engaged_at, t.re_engaged_by,
               arg_max_null(g.ts, {gap}), arg_max_null(g.nxt, {gap}), arg_max_null(g.nkind, {gap}),
               max({gap}) >= INTERVAL 30 DAY
        FROM truth t JOIN g USING (lead_id) WHERE t.status = 'open' OR t.went_dark_at IS NOT NULL GROUP BY ALL""")
    dark = [r for r in gaps if r[1] is not None]
    assert len(dark) > 100 and any(r[2] is not None for r in dark)
    assert all(r[7] and (r[4], r[5], r[6]) == (r[1], r[2], r[3]) for r in dark)
    assert not any(r[7] for r in gaps if r[1] is None)


def test_truth_table_columns(dirty: Files) -> None:
    names = pq.read_schema(dirty.data.truth_leads_path).names
    for column in (
        "lead_id",
        "persona",
        "channel",
        "created_at",
        "mql_at",
        "sql_at",
        "opportunity_at",
        "customer_at",
        "disqualified",
        "first_human_touch_at",
        "went_dark_at",
        "re_engaged_at",
        "re_engaged_by",
        "amount",
        "is_won",
    ):
        assert column in names
    keys = {"params", "realized", "planted"}
    assert set(dirty.truth) == keys
    assert dirty.truth["params"]["seed"] == SEED and dirty.truth["params"]["n_leads"] == N
