"""Running the checks and the result object with its renderers (Markdown, JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import ibis

from leadjourney.engine import fetch_rows, fetch_value
from leadjourney.escape import markdown_code
from leadjourney.escape import markdown_text as md
from leadjourney.progress import Progress, silent
from leadjourney.quality.checks import CHECKS, DETAIL_COLUMNS, Check, Tables
from leadjourney.quality.web import WebStitching, web_stitching
from leadjourney.tabular import Tabular
from leadjourney.workspace import Workspace

EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    title: str
    severity: str
    entity: str
    count: int
    share: float | None  # of all leads (or of all opportunities for opportunity checks); None for values
    examples: list[str]
    impact: str
    details: list[dict[str, Any]] = field(default_factory=list)  # "values" checks: file, table, column, value, n

    @property
    def passed(self) -> bool:
        return self.count == 0


@dataclass(frozen=True)
class WebTraffic:
    """The web-analytics aggregate (``web_traffic``): rows, days covered, sessions."""

    rows: int
    first_day: str
    last_day: str
    sessions: int

    def text(self) -> str:
        return (f"Web traffic: {self.rows:,} rows, {self.first_day} to {self.last_day}, "
                f"{self.sessions:,} sessions (by day, source, medium, campaign and landing page).")


@dataclass(frozen=True)
class QualityReport(Tabular):
    table_from = "results"  # to_arrow() / to_pandas(): one row per item

    workspace: str
    checked_at: str
    leads: int
    opportunities: int
    results: list[CheckResult]
    not_loaded: dict[str, int]  # quarantine reason -> rows not loaded
    values_nulled: dict[str, int]  # quarantine reason -> values set to NULL
    web_traffic: WebTraffic | None = None  # what arrived of the web-analytics aggregate; None when nothing did
    web_stitching: WebStitching | None = None  # web visitors tied to people; None when no web sessions arrived

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def result(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        lines = [
            "# Data quality report",
            "",
            f"Workspace {markdown_code(self.workspace)}, checked {self.checked_at} UTC: "
            f"{self.leads:,} leads, {self.opportunities:,} opportunities.",
            "",
            "| Check | Severity | Count | Share | Examples | What it does to the analysis |",
            "|---|---|---:|---:|---|---|",
        ]
        for r in self.results:
            status = "ok" if r.passed else r.severity
            examples = ", ".join(markdown_code(e) for e in r.examples)
            share = "-" if r.share is None else f"{r.share:.1%}"
            lines.append(f"| {md(r.title)} | {status} | {r.count:,} | {share} | {examples} | {md(r.impact)} |")
        for r in self.results:
            if r.details:
                lines += ["", f"## {md(r.title)}", "", "| File | Column | Value | Count |", "|---|---|---|---:|"]
                lines += [f"| {md(d['file'])} | {_column(d)} | {markdown_code(d['value'])} | {d['n']:,} |"
                          for d in r.details]
        if self.web_traffic is not None:
            lines += ["", md(self.web_traffic.text())]
        if self.web_stitching is not None:
            lines += ["", md(self.web_stitching.text())]
        lines += ["", "## Rows not loaded (quarantine)", ""]
        if self.not_loaded or self.values_nulled:
            lines += ["| Reason | Rows not loaded | Values set to NULL |", "|---|---:|---:|"]
            for reason in sorted(set(self.not_loaded) | set(self.values_nulled)):
                lines.append(f"| {md(reason)} | {self.not_loaded.get(reason, 0):,} | {self.values_nulled.get(reason, 0):,} |")
            lines += ["", "Every quarantined row keeps its file, row number, column and value in the "
                      "workspace table `quarantine`."]
        else:
            lines.append("None: every row of every source loaded.")
        return "\n".join(lines) + "\n"


def _column(detail: dict[str, Any]) -> str:
    """A detail's table.column (a file's header has no table yet: the column alone), escaped for Markdown."""
    column = md(str(detail["column"]))
    return f"{md(str(detail['table']))}.{column}" if detail["table"] else column


def run_quality(ws: Workspace, *, progress: Progress | None = None,
                now: datetime | None = None) -> QualityReport:
    """Run every check on the workspace's canonical tables (inside DuckDB, via Ibis)."""
    say = progress or silent
    now = now or datetime.now(UTC).replace(tzinfo=None)
    with ws.connect(read_only=True) as con:
        backend = ibis.duckdb.from_connection(con)
        leads = backend.table("leads")
        if "created_at_from" not in leads.columns:  # a workspace not ingested since the column was added
            leads = leads.mutate(created_at_from=ibis.null("string"))
        tables = Tables(
            leads=leads,
            stage_events=backend.table("stage_events"),
            touchpoints=backend.table("touchpoints"),
            opportunities=backend.table("opportunities"),
            quarantine=backend.table("quarantine"),
            config=ws.config,
            now=now,
            ingest_notes=backend.table("ingest_notes") if _has_table(con, "ingest_notes") else None,
        )
        n_leads = _scalar(tables.leads.count())
        n_opps = _scalar(tables.opportunities.count())
        results = []
        for i, check in enumerate(CHECKS):
            say(check.title, i, len(CHECKS))
            results.append(_run(check, tables, n_leads, n_opps))
        q = tables.quarantine
        counts = fetch_rows(q.group_by(["reason", "action"]).aggregate(n=q.count()))
        web = _web_traffic(con) if _has_table(con, "web_traffic") else None
        stitching = web_stitching(backend) if _has_table(con, "web_visits") else None
    say("done", len(CHECKS), len(CHECKS))
    not_loaded = {r["reason"]: r["n"] for r in counts if r["action"] != "value_nulled"}
    nulled = {r["reason"]: r["n"] for r in counts if r["action"] == "value_nulled"}
    return QualityReport(
        workspace=str(ws.root),
        checked_at=now.isoformat(timespec="seconds"),
        leads=n_leads,
        opportunities=n_opps,
        results=results,
        not_loaded=dict(sorted(not_loaded.items())),
        values_nulled=dict(sorted(nulled.items())),
        web_traffic=web,
        web_stitching=stitching if stitching is not None and stitching.visitors else None,
    )


def _web_traffic(con: duckdb.DuckDBPyConnection) -> WebTraffic | None:
    rows, first, last, sessions = con.execute(
        "SELECT count(*), min(day), max(day), coalesce(sum(sessions), 0) FROM web_traffic").fetchall()[0]
    return WebTraffic(int(rows), str(first), str(last), int(sessions)) if rows else None


def _run(check: Check, tables: Tables, n_leads: int, n_opps: int) -> CheckResult:
    if check.entity == "values":
        return _run_values(check, tables)
    ids = check.find(tables)
    # one query: the first ids in order, each row carrying the total count
    first = fetch_rows(ids.mutate(n=ids.id.count().over()).order_by("id").limit(EXAMPLES))
    count = int(first[0]["n"]) if first else 0
    examples = [str(row["id"]) for row in first]
    base = n_opps if check.entity == "opportunities" else n_leads
    return CheckResult(
        name=check.name, title=check.title, severity=check.severity, entity=check.entity,
        count=count, share=count / base if base else 0.0, examples=examples, impact=check.impact,
    )


def _run_values(check: Check, tables: Tables) -> CheckResult:
    """A check over what ingest counted: examples most frequent first; details by file, column and value."""
    found = check.find(tables)
    rows = fetch_rows(found.select("id", *DETAIL_COLUMNS).order_by([ibis.desc("n"), "id"]))
    return CheckResult(
        name=check.name, title=check.title, severity=check.severity, entity=check.entity,
        count=sum(int(r["n"]) for r in rows), share=None,
        examples=[f"{r['id']} ({int(r['n']):,})" for r in rows[:EXAMPLES]], impact=check.impact,
        details=sorted(({k: (int(r[k]) if k == "n" else r[k]) for k in DETAIL_COLUMNS} for r in rows),
                       key=lambda d: tuple(str(d[k]) for k in DETAIL_COLUMNS[:4])),
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                       [name]).fetchall()[0][0] > 0


def _scalar(expr: ibis.Expr) -> int:
    return int(fetch_value(expr))
