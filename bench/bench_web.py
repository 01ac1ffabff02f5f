"""The web journey at scale (issue 16): N GA4 export events for M leads, ingested and analysed, each beside a
yardstick measured in the same run.

    python -m bench web --events 5000000 --leads 100000     # default: 50M events for 1M leads

The data is written by DuckDB (not the generator: it has to reach 50M events in a minute): M leads (half carry
their web visitor id on the form fill that created them), their stage events, opportunities and e-mail
touches with campaigns, and N events of GA4's BigQuery export as Parquet (nested ``event_params``,
``collected_traffic_source``) over N/8 sessions of 2M visitors. Steps, each in its own child process (wall and
CPU seconds, user + system of all threads, of the step itself and of the whole child; peak memory):

* **ingest**: the CRM files first (not timed against the target), then the web export alone (its flattening,
  typing, loading, and the derived ``web_stitches`` / ``web_visits``); yardstick: DuckDB reading the same
  Parquet into a table with the same flat columns (the unnesting and the time conversion, nothing else).
  Then the checksums of every table (:mod:`bench.checksums`, the salt fixed), beside the first run's.
* **analyses**: :class:`WebJourney` and :class:`Campaigns` on the ingested workspace; yardstick: hand-written
  SQL for the landing pages, visit duration, exit pages and traffic source figures over ``web_visits``, and
  the campaign x kind GROUP BY over the touchpoints.

Targets (issue 16, at 50M events): ingest <= 2 min, analyses <= 15 s, peak <= 8 GB.
"""

from __future__ import annotations

import shutil

from bench.checksums import FIX_SALT, checksum_code, compare
from bench.measure import WORK, last_cpu_seconds, report, run_child

DAYS = 180
EVENTS_PER_SESSION = 8

MAKE = """
import duckdb
con = duckdb.connect()
con.execute("SET memory_limit = '3GB'")  # the data, not a measured step: kept small beside others' work
M, N, D = {leads}, {events}, {days}
out = {out!r}
start = "TIMESTAMP '2026-01-01'"
con.execute(f'''COPY (SELECT 'L' || i AS lead_id, 'person' || i || '@example.com' AS email,
    {{start}} + to_seconds(CAST(hash(i) % ({{D}} * 86400) AS BIGINT)) AS created_at,
    ['seo', 'paid_search', 'email', 'referral'][1 + CAST(hash(i * 7) % 4 AS BIGINT)] AS source FROM range({{M}}) t(i))
    TO '{{out}}/leads.parquet' ''')
con.execute(f'''COPY (SELECT lead_id, stage, created_at + to_days(d) AS entered_at FROM read_parquet('{{out}}/leads.parquet'),
    (VALUES ('Lead', 0, 10), ('MQL', 3, 4), ('SQL', 10, 2)) s(stage, d, keep)
    WHERE hash(lead_id) % 10 < keep) TO '{{out}}/stage_events.parquet' ''')
con.execute(f'''COPY (SELECT 'O' || lead_id AS opportunity_id, lead_id, created_at + to_days(20) AS created_at,
    created_at + to_days(60) AS closed_at, 20000.0 AS amount, hash(lead_id) % 40 < 2 AS is_won
    FROM read_parquet('{{out}}/leads.parquet') WHERE hash(lead_id) % 10 = 0) TO '{{out}}/opportunities.parquet' ''')
con.execute(f'''COPY (
    SELECT lead_id, created_at AS occurred_at, 'form_fill' AS kind, 'automated' AS actor, NULL AS campaign,
           'Demo request form' AS asset, CASE WHEN hash(lead_id) % 2 = 0 THEN 'V' || substr(lead_id, 2) END AS visitor_id
    FROM read_parquet('{{out}}/leads.parquet')
    UNION ALL
    SELECT lead_id, created_at + to_hours(24 * k + e) AS occurred_at,
           ['email_send', 'email_delivered', 'email_open', 'email_click'][CAST(e + 1 AS BIGINT)] AS kind, 'automated',
           CASE WHEN k < 3 THEN 'Nurture: onboarding' ELSE 'Product update' END AS campaign,
           'E-mail ' || k AS asset, NULL
    FROM read_parquet('{{out}}/leads.parquet'), range(4) a(k), range(4) b(e)
    WHERE hash(lead_id || k) % 10 < 8 - 2 * e) TO '{{out}}/touchpoints.parquet' ''')
params = ", ".join(
    f"{{{{'key': '{{key}}', 'value': {{{{'string_value': {{sv}}, 'int_value': {{iv}}, 'float_value': NULL::DOUBLE, "
    f"'double_value': NULL::DOUBLE}}}}}}}}"
    for key, sv, iv in (("ga_session_id", "NULL::VARCHAR", "epoch(st)::BIGINT"),
                        ("ga_session_number", "NULL::VARCHAR", "1::BIGINT"),
                        ("page_location", "'https://www.example.com/p' || (hash(s + k) % 40) || "
                         "CASE WHEN k = 1 AND s % 3 = 0 THEN '?utm_source=google&utm_medium=cpc&gclid=x' ELSE '' END",
                         "NULL::BIGINT"),
                        ("page_referrer", "CASE WHEN k <= 1 THEN 'https://www.google.com/' END", "NULL::BIGINT"),
                        ("engagement_time_msec", "NULL::VARCHAR", "(1000 * k)::BIGINT")))
con.execute(f'''COPY (
    WITH e AS (SELECT i // {{EPS}} AS s, i % {{EPS}} AS k FROM range({{N}}) t(i)),
    s AS (SELECT *, {{start}} - to_days(30) + to_seconds(CAST(hash(s * 3) % (({{D}} + 30) * 86400) AS BIGINT)) AS st,
                 'V' || (hash(s) % (2 * {{M}})) AS visitor FROM e)
    SELECT strftime(st, '%Y%m%d') AS event_date, (epoch_us(st) + k * 37000000) AS event_timestamp,
           CASE WHEN k = 0 THEN 'session_start' WHEN k = {{EPS}} - 1 AND s % 25 = 0 THEN 'form_submit'
                WHEN k = 6 THEN 'scroll' ELSE 'page_view' END AS event_name,
           [{{params}}] AS event_params, NULL::VARCHAR AS user_id, visitor AS user_pseudo_id,
           CASE WHEN s % 3 = 0 THEN {{{{'manual_source': 'google', 'manual_medium': 'cpc',
                'manual_campaign_name': 'brand'}}}} END AS collected_traffic_source, 'WEB' AS platform
    FROM s) TO '{{out}}/web_events.parquet' (ROW_GROUP_SIZE 1000000)''')
"""

INGEST = """
import time
from leadjourney.workspace import Workspace
from leadjourney.ingest.pipeline import ingest
ws = Workspace.open({ws!r})
ws.set_sources({sources!r})
t0, c0 = time.perf_counter(), time.process_time()
ingest(ws)
print("figures", time.perf_counter() - t0, time.process_time() - c0)
"""

FLOOR = """
import time, duckdb
con = duckdb.connect({db!r})
con.execute("SET memory_limit = '2GB'")
def param(key):
    v = f"(list_filter(event_params, lambda p: p.key = '{{key}}')[1]).value"
    return f"coalesce({{v}}.string_value, CAST({{v}}.int_value AS VARCHAR))"
t0, c0 = time.perf_counter(), time.process_time()
con.execute(f'''CREATE TABLE floor AS SELECT user_pseudo_id AS visitor_id, {{param('ga_session_id')}} AS session_id,
    make_timestamp(event_timestamp) AS occurred_at, event_name AS event, {{param('page_location')}} AS page,
    {{param('page_referrer')}} AS referrer, collected_traffic_source.manual_source AS source,
    collected_traffic_source.manual_medium AS medium, user_id
    FROM read_parquet({path!r}) WHERE event_name IN ('page_view', 'form_submit', 'generate_lead', 'sign_up', 'login')''')
print("figures", time.perf_counter() - t0, con.execute("SELECT count(*) FROM floor").fetchone()[0],
      time.process_time() - c0)
"""

ANALYSES = """
import time
import ibis
from leadjourney.workspace import Workspace
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.web import WebJourney
from leadjourney.analysis.campaigns import Campaigns
ws = Workspace.open({ws!r})
with ws.connect(read_only=True) as con:
    t0, c0 = time.perf_counter(), time.process_time()
    for sql in (
        "SELECT landing_page, count(*), count(*) FILTER (form_fill), count(*) FILTER (form_fill AND p.has_1) "
        "FROM web_visits v LEFT JOIN person_journeys p USING (person_id) GROUP BY ALL",
        "SELECT median(duration_seconds), quantile_cont(duration_seconds, 0.9), count(*) FILTER (pageviews <= 1) "
        "FROM web_visits",
        "SELECT exit_page, count(*) FROM web_visits WHERE person_id IS NULL GROUP BY ALL",
        "SELECT source, medium, count(*), count(DISTINCT visitor_id) FROM web_visits GROUP BY ALL",
        "SELECT f.source, f.medium, count(*), sum(p.has_2::INT), sum((p.won_deals > 0)::INT) FROM "
        "(SELECT person_id, arg_min(source, started_at) AS source, arg_min(medium, started_at) AS medium "
        " FROM web_visits WHERE person_id IS NOT NULL GROUP BY ALL) f JOIN person_journeys p USING (person_id) GROUP BY ALL",
        "SELECT campaign, kind, count(*), count(DISTINCT lead_id) FROM touchpoints GROUP BY ALL",
    ):
        con.execute(sql).fetchall()
    yardstick, yardstick_cpu = time.perf_counter() - t0, time.process_time() - c0
    journeys = Journeys(ibis.duckdb.from_connection(con), ws.config)
    journeys.people()
    t0, c0 = time.perf_counter(), time.process_time()
    web = WebJourney().fit(journeys)
    web_seconds, web_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    c = Campaigns().fit(journeys)
    campaign_seconds, campaign_cpu = time.perf_counter() - t0, time.process_time() - c0
    journeys.release()
    visits = con.execute("SELECT count(*) FROM web_visits").fetchone()[0]
print("figures", yardstick, web_seconds, campaign_seconds, visits, web.stitching.stitched_visitors,
      len(web.landing_pages), len(c.email.nurtures), yardstick_cpu, web_cpu, campaign_cpu)
"""


def _figures(out: str) -> list[str]:
    return next(x for x in out.splitlines() if x.startswith("figures")).split()[1:]


def main(leads: int, events: int) -> None:
    root = WORK / f"web-{events}-{leads}"
    data = root / "data"
    if not (data / "web_events.parquet").exists():
        shutil.rmtree(root, ignore_errors=True)
        data.mkdir(parents=True)
        wall, peak, _ = run_child(MAKE.format(leads=leads, events=events, days=DAYS, out=str(data))
                                  .replace("{EPS}", str(EVENTS_PER_SESSION)))
        report("web-data", leads=leads, events=events, seconds=wall, cpu_seconds=last_cpu_seconds(), peak_mb=peak)
    ws = root / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    run_child(f"from leadjourney.workspace import Workspace\nws = Workspace.init({str(ws)!r})\n" + FIX_SALT)
    crm = [{"name": t, "path": str(data / f"{t}.parquet"), "format": "parquet", "table": t, "timezone": "UTC"}
           for t in ("leads", "stage_events", "touchpoints", "opportunities")]
    wall, peak, out = run_child(INGEST.format(ws=str(ws), sources=crm))
    report("web-ingest-crm", leads=leads, seconds=float(_figures(out)[0]), cpu_seconds=last_cpu_seconds(), peak_mb=peak)
    web = {"name": "ga4", "path": str(data / "web_events.parquet"), "format": "ga4_bigquery", "table": "web_sessions"}
    wall, peak, out = run_child(INGEST.format(ws=str(ws), sources=[*crm, web]))
    seconds, step_cpu, cpu = float(_figures(out)[0]), float(_figures(out)[1]), last_cpu_seconds()
    _, _, sums = run_child(checksum_code(str(ws)))  # every table, beside the first run's: a speed-up changes none
    checksums = compare(f"web-{events}-{leads}", sums)
    floor_db = root / "floor.duckdb"
    floor_db.unlink(missing_ok=True)
    _, floor_peak, floor_out = run_child(FLOOR.format(db=str(floor_db), path=str(data / "web_events.parquet")))
    floor_seconds, rows, floor_cpu = (float(_figures(floor_out)[0]), int(_figures(floor_out)[1]),
                                      float(_figures(floor_out)[2]))
    floor_db.unlink(missing_ok=True)
    report("web-ingest", events=events, kept_rows=rows, seconds=seconds, cpu_seconds=step_cpu,
           child_cpu_seconds=cpu, peak_mb=peak, floor_seconds=floor_seconds, floor_cpu_seconds=floor_cpu,
           floor_child_cpu_seconds=last_cpu_seconds(), floor_peak_mb=floor_peak,
           ratio=seconds / floor_seconds if floor_seconds else float("nan"),
           cpu_ratio=step_cpu / floor_cpu if floor_cpu else float("nan"), target_seconds=120, checksums=checksums)
    wall, peak, out = run_child(ANALYSES.format(ws=str(ws)))
    f = _figures(out)
    yardstick, web_s, camp_s = float(f[0]), float(f[1]), float(f[2])
    yard_cpu, web_cpu, camp_cpu = float(f[7]), float(f[8]), float(f[9])
    report("web-analyses", events=events, visits=int(f[3]), stitched_visitors=int(f[4]), landing_pages=int(f[5]),
           sequences=int(f[6]), web_seconds=web_s, campaigns_seconds=camp_s, seconds=web_s + camp_s,
           yardstick_seconds=yardstick, ratio=(web_s + camp_s) / yardstick if yardstick else float("nan"),
           web_cpu_seconds=web_cpu, campaigns_cpu_seconds=camp_cpu, yardstick_cpu_seconds=yard_cpu,
           cpu_ratio=(web_cpu + camp_cpu) / yard_cpu if yard_cpu else float("nan"),
           child_cpu_seconds=last_cpu_seconds(), peak_mb=peak, target_seconds=15)
