"""``generate``: simulate, dirty and write a workspace's worth of raw exports with their ground truth."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadjourney.errors import OptionError
from leadjourney.generate import _params as P
from leadjourney.generate._campaign import PROGRAMS, program_touches
from leadjourney.generate._dirt import Dirt
from leadjourney.generate._ids import Ids
from leadjourney.generate._journey import simulate
from leadjourney.generate._people import people
from leadjourney.generate._plant import UNQUALIFIED_IN_FUNNEL_SHARE, plan
from leadjourney.generate._scenario import Scenario, scenario_truth
from leadjourney.generate._spelling import spellings
from leadjourney.generate._tables import Streams, events_table, leads_table, opportunities_table
from leadjourney.generate._touch import (
    CAMPAIGN_VOCAB,
    combine,
    orphan_touches,
    quiet_windows,
    simulate_touches,
    touch_table,
    windows,
)
from leadjourney.generate._truth import planted, realized, truth_leads
from leadjourney.generate._web import simulate_web
from leadjourney.generate._web_events import write_ga4

FORMATS = ("parquet", "csv")
TABLES = ("leads", "stage_events", "touchpoints", "opportunities")
WEB = "web_sessions"  # GA4's BigQuery export: web_events.parquet, or web_events.ndjson beside CSV files
GROUND_TRUTH = "ground_truth.json"
GROUND_TRUTH_LEADS = "ground_truth_leads.parquet"
DEFAULT_DIRT = Dirt()


@dataclass(frozen=True)
class GeneratedData:
    """What :func:`generate` wrote."""

    out_dir: Path
    files: dict[str, Path]  # canonical table -> raw export file
    ground_truth_path: Path
    truth_leads_path: Path
    sources: list[
        dict[str, str]
    ]  # [[sources]] entries for leadjourney.toml, paths relative to out_dir.parent
    summary: dict[str, int]


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(table: pa.Table, path: Path, file_format: str) -> None:
    """Parquet (plain string types; dictionary columns written as dictionary pages) or CSV."""
    coded = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    if file_format == "parquet":
        pq.write_table(
            table, path, compression="zstd", use_dictionary=coded or True, store_schema=False
        )
        return
    for name in coded:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.cast(table.column(name), pa.string()))
    pacsv.write_csv(table, path)


def generate(
    out_dir: Path,
    *,
    n_leads: int = 20_000,
    seed: int = 7,
    end: date | None = None,
    days: int = 180,
    file_format: Literal["parquet", "csv"] = "parquet",
    dirt: Dirt = DEFAULT_DIRT,
    scenario: Scenario | None = None,
) -> GeneratedData:
    """Write synthetic inbound-lead exports and their ground truth to ``out_dir``.

    Leads are created over ``days`` days before ``end`` (00:00 UTC, exclusive; default
    today) and observed until then. Same arguments give byte-identical files. A ``scenario``
    plants business changes (a conversion decline, a source shift, definition drift); it is
    recorded under ``planted.scenario`` in the ground truth.
    """
    if n_leads < 1:
        raise ValueError(f"n_leads must be at least 1, found {n_leads}")
    if days < 1:
        raise ValueError(f"days must be at least 1, found {days}")
    if file_format not in FORMATS:
        raise OptionError(f"format: expected one of {', '.join(FORMATS)}, found {file_format!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stop = _epoch(end or datetime.now(UTC).date())
    start = stop - days * P.DAY

    streams = np.random.default_rng(seed).spawn(12)  # the first nine as before the scenario stream, ...
    r_sim, r_people, r_touch, r_plan, r_spell, r_zone, r_dirt, r_copy, r_orphan, r_scenario = streams[:10]
    r_programs, r_web = streams[10:]  # ... then the e-mail programs and the web sessions
    spell = spellings()
    journeys = simulate(r_sim, n_leads, start, stop, scenario, r_scenario)
    folks = people(r_people, journeys.persona, journeys.channel)
    chosen = plan(r_plan, journeys, dirt, spell, stop)
    copies = len(chosen.duplicate_of)
    ids = Ids.build(n_leads, copies, chosen.orphan_opportunities, chosen.orphan_touch_leads)
    rs = Streams(r_spell, r_zone, r_dirt, dirt.mixed_timezones)

    leads, exact_leads = leads_table(journeys, folks, chosen, spell, ids, rs)
    events, exact_events = events_table(journeys, chosen, spell, ids, rs)
    opps = opportunities_table(journeys, chosen, ids, rs, start, stop)
    copy_rows = np.arange(n_leads, n_leads + copies)
    lead_windows = windows(journeys)
    programs, program_truth = program_touches(r_programs, lead_windows, stop)
    web = simulate_web(r_web, journeys.channel, journeys.created, lead_windows.end1,
                       leads.column("email").slice(0, n_leads), start, stop)
    touches = combine(
        [
            simulate_touches(r_touch, lead_windows),
            simulate_touches(
                r_copy,
                quiet_windows(
                    copy_rows, journeys.channel[chosen.duplicate_of], chosen.duplicate_created, stop
                ),
            ),
            orphan_touches(r_orphan, ids.orphan_touch_lead_indices, start, stop),
            programs,
        ],
        base=start,
    )
    csv = file_format == "csv"
    tables = {
        "leads": leads,
        "stage_events": events,
        "touchpoints": touch_table(touches, ids.lead_ids, csv, web.form_visitor),
        "opportunities": opps.table,
    }
    files = {name: out_dir / f"{name}.{file_format}" for name in TABLES}
    files[WEB] = out_dir / ("web_events.ndjson" if csv else "web_events.parquet")
    pool = ThreadPoolExecutor(
        max_workers=2
    )  # Arrow writes release the GIL; each file is independent
    writes = [pool.submit(_write, tables[name], files[name], file_format) for name in TABLES]
    writes.append(pool.submit(write_ga4, web.visits, files[WEB], csv))

    from_programs = np.isin(touches.campaign, [CAMPAIGN_VOCAB.index(c) for c in PROGRAMS])
    program_truth["touches"] = int(from_programs.sum())  # as written (a same-second clash keeps one touch)
    simulated_touches = int((touches.lead[~from_programs] < n_leads).sum())
    orphan_rows = (
        int((touches.lead >= ids.orphan_touch_lead_indices[0]).sum())
        if ids.orphan_touch_leads
        else 0
    )
    params: dict[str, Any] = {
        **P.params_json(),
        "seed": seed,
        "n_leads": n_leads,
        "days": days,
        "period": {"start": _iso(start), "end": _iso(stop), "end_is_exclusive": True},
        "dirt": dirt.rates(),
        "unqualified_in_funnel_share": UNQUALIFIED_IN_FUNNEL_SHARE,
    }
    planted_truth = planted(journeys, chosen, spell, ids, opps, exact_leads, exact_events, orphan_rows)
    planted_truth["email_programs"] = program_truth
    planted_truth["web"] = web.truth
    if scenario is not None:
        planted_truth["scenario"] = scenario_truth(scenario, journeys)
    truth = {
        "params": params,
        "realized": realized(journeys, simulated_touches),
        "planted": planted_truth,
    }
    truth_path = out_dir / GROUND_TRUTH
    truth_path.write_text(json.dumps(truth, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    truth_leads_path = out_dir / GROUND_TRUTH_LEADS
    writes.append(
        pool.submit(_write, truth_leads(journeys, ids, opps), truth_leads_path, "parquet")
    )
    pool.shutdown()
    for done in writes:
        done.result()

    sources = [
        {
            "name": f"generated_{name}",
            "path": os.path.relpath(files[name], out_dir.parent),
            "format": file_format,
            "table": name,
            "timezone": "UTC" if name == "touchpoints" else P.SOURCE_TIMEZONE,
        }
        for name in TABLES
    ]
    sources.append({"name": "generated_web", "path": os.path.relpath(files[WEB], out_dir.parent),
                    "format": "ga4_bigquery", "table": WEB, "timezone": "UTC"})
    reached = truth["realized"]["reached"]
    summary = {
        **{f"{name}_rows": tables[name].num_rows for name in TABLES},
        "web_events_rows": web.visits.events,
        "simulated_leads": n_leads,
        "duplicate_person_records": copies,
        **{f"reached_{stage.lower()}": reached[stage] for stage in P.STAGES},
    }
    return GeneratedData(out_dir, files, truth_path, truth_leads_path, sources, summary)
