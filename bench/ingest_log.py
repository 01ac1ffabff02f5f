"""An event log of N leads written by plain DuckDB SQL, independent of ``leadjourney.generate``.

Shaped like a CRM + marketing export: a lead list (text timestamps with offsets, mixed-case
sources, e-mails), stage history (1 to 4 stages a lead, ISO text), touchpoints (about 8 a lead,
typed timestamps) and a few opportunities. A few rows are bad on purpose (blank ids,
unparseable dates, an exact duplicate), so quarantine does real work. Written as Parquet and
as CSV, deterministic (hash-based, no random state).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

TABLES = ("leads", "stage_events", "touchpoints", "opportunities")
_STAGES = "['Lead', 'MQL', 'SQL', 'Opportunity']"
_SOURCES = "['Paid Search', 'organic', 'EMAIL', 'Referral', 'webinar', 'Events', 'direct', 'Partner']"
_KINDS = "['Page View', 'form_fill', 'Email Open', 'email_click', 'call', 'meeting', 'webinar', 'chat']"

_SQL = {
    "leads": """
        SELECT CASE WHEN i % 100003 = 7 THEN '' ELSE 'LD-' || lpad(i::VARCHAR, 9, '0') END AS lead_id,
               'person' || i || '@example' || (i % 97) || '.com' AS email,
               CASE WHEN i % 50021 = 11 THEN 'last tuesday'
                    ELSE strftime(TIMESTAMP '2025-01-01' + to_seconds(hash(i, 1) % 57000000),
                                  '%Y-%m-%dT%H:%M:%S') || CASE i % 3 WHEN 0 THEN 'Z' WHEN 1 THEN '+02:00' ELSE '' END
               END AS created_at,
               {sources}[1 + hash(i, 2) % 8] AS source,
               'campaign ' || (hash(i, 3) % 40) AS source_detail,
               'Company ' || (hash(i, 4) % 200000) AS company,
               ['Software', 'Retail', 'Finance', 'Health'][1 + hash(i, 5) % 4] AS industry,
               (10 + hash(i, 6) % 5000)::BIGINT AS employee_count,
               ['US', 'DE', 'FR', 'GB', 'unknown'][1 + hash(i, 7) % 5] AS country,
               ['VP Marketing', 'CTO', 'Analyst', 'Head of Sales'][1 + hash(i, 8) % 4] AS job_title,
               'rep' || (hash(i, 9) % 25) AS owner,
               ['Open', 'Working', 'Disqualified', 'Converted'][1 + hash(i, 10) % 4] AS status,
               {stages}[1 + hash(i, 11) % 4] AS current_stage
        FROM range({first}, {first} + {n}) t(i)
    """,
    "stage_events": """
        SELECT 'LD-' || lpad(i::VARCHAR, 9, '0') AS lead_id, {stages}[s] AS stage,
               strftime(TIMESTAMP '2025-01-01' + to_seconds(hash(i, 1) % 57000000 + (s - 1) * 86400 * 9),
                        '%Y-%m-%d %H:%M:%S') AS entered_at
        FROM range({first}, {first} + {n}) t(i), range(1, 5) u(s)
        WHERE s <= 1 + hash(i, 11) % 4
    """,
    "touchpoints": """
        SELECT 'LD-' || lpad(i::VARCHAR, 9, '0') AS lead_id,
               TIMESTAMP '2025-01-01' + to_seconds(hash(i, 1) % 57000000 + k * 3600 * (1 + hash(i, k) % 200))
                   AS occurred_at,
               {sources}[1 + hash(i, k, 2) % 8] AS channel,
               {kinds}[1 + hash(i, k, 3) % 8] AS kind,
               'Spring promo ' || (hash(i, k, 4) % 30) AS campaign,
               '/page/' || (hash(i, k, 5) % 500) AS asset
        FROM range({first}, {first} + {n}) t(i), range(0, 12) u(k)
        WHERE k < 2 + hash(i, 12) % 12
    """,
    "opportunities": """
        SELECT 'OPP-' || i AS opportunity_id, 'LD-' || lpad(i::VARCHAR, 9, '0') AS lead_id,
               strftime(TIMESTAMP '2025-03-01' + to_seconds(hash(i, 1) % 50000000), '%Y-%m-%dT%H:%M:%SZ') AS created_at,
               strftime(TIMESTAMP '2025-04-01' + to_seconds(hash(i, 1) % 50000000), '%Y-%m-%dT%H:%M:%SZ') AS closed_at,
               '$' || (1000 + hash(i, 13) % 90000) || '.00' AS amount, 'USD' AS currency,
               ['Closed Won', 'Closed Lost', 'Negotiation'][1 + hash(i, 14) % 3] AS stage
        FROM range({first}, {first} + {n}) t(i)
        WHERE hash(i, 11) % 4 = 3
    """,
}


def write_log(folder: Path, leads: int, *, first: int = 1) -> dict[str, int]:
    """Write ``folder``/TABLE.parquet and TABLE.csv for N leads numbered from ``first`` (skipped when present);
    return rows per table. Leads numbered on from an earlier log's are new people: an export's later rows."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows = {}
    for table in TABLES:
        query = _SQL[table].format(n=leads, first=first, stages=_STAGES, sources=_SOURCES, kinds=_KINDS)
        query = re.sub(r"hash\(([^)]*)\)", r"(hash(\1) % 4294967296)::BIGINT", query)
        if table == "touchpoints":  # one exact duplicate row, as exports repeat rows
            query = f"{query} UNION ALL ({query} LIMIT 1)"
        parquet, csv = folder / f"{table}.parquet", folder / f"{table}.csv"
        if not parquet.exists():
            con.execute(f"COPY ({query}) TO '{parquet}.tmp' (FORMAT parquet)")
            Path(f"{parquet}.tmp").rename(parquet)
        if not csv.exists():
            con.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}.tmp' (FORMAT csv, HEADER)")
            Path(f"{csv}.tmp").rename(csv)
        rows[table] = int(con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0])  # type: ignore[index]
    con.close()
    return rows
