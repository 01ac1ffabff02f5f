"""One analysis run: the metrics for a selection, as one result with its renderers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis

from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Filters, Journeys
from leadjourney.analysis.time_in_stage import TimeInStage
from leadjourney.progress import Progress, silent
from leadjourney.workspace import Workspace

SCHEMA_VERSION = 1  # of the JSON contract: bump on any breaking change


@dataclass
class Analysis:
    """The baseline metrics for one selection of leads."""

    workspace: str
    computed_at: str
    filters: Filters
    n_people: int
    funnel: Funnel
    time_in_stage: TimeInStage

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "workspace": self.workspace,
            "computed_at": self.computed_at,
            "filters": self.filters.to_dict(),
            "n_people": self.n_people,
            "funnel": self.funnel.to_dict(),
            "time_in_stage": self.time_in_stage.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        f = self.funnel
        lines = [
            "# Journey baseline",
            "",
            f"{self.n_people:,} people (leads counted once per person, unqualified contacts excluded); "
            f"funnel counted in `{f.mode}` mode{f' ({f.window_days}-day window)' if f.mode == 'cohort' else ''}; data as of {self.time_in_stage.as_of:%Y-%m-%d %H:%M} UTC. "
            "All findings are ASSUMED until stakeholders confirm them.",
            "",
            "## Funnel",
            "",
            "| Stage | Lane | Reached | of which without a CRM entry |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| {s.stage} | {s.lane} | {s.reached:,} | {s.imputed:,} |" for s in f.stages]
        lines += ["", "| Transition | Entered | Converted | Rate | 95% interval |", "|---|---:|---:|---:|---|"]
        for t in f.transitions:
            rate = "-" if t.rate is None else f"{t.rate:.1%}"
            ci = "-" if t.ci_low is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"
            lines.append(f"| {t.from_stage} → {t.to_stage} | {t.entered:,} | {t.converted:,} | {rate} | {ci} |")
        lines += [
            "", "## Time in stage (days)", "",
            "| Transition | Completed | Still waiting | Mean | Median | p90 | Kaplan-Meier median | Caveat |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in self.time_in_stage.rows:
            km = "not reached" if not r.km_median_reached else _days(r.km_median_days)
            lines.append(
                f"| {r.from_stage} → {r.to_stage} | {r.n_completed:,} | {r.n_censored:,} | {_days(r.mean_days)} | "
                f"{_days(r.median_days)} | {_days(r.p90_days)} | {km} | {r.caveat or ''} |"
            )
        return "\n".join(lines) + "\n"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def analyze(ws: Workspace, *, filters: Filters | None = None, mode: str = "stage_reach",
            window_days: int = 90, now: datetime | None = None, progress: Progress | None = None) -> Analysis:
    """Compute the baseline metrics for the workspace (or a filtered selection)."""
    say = progress or silent
    filters = filters or Filters()
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, filters, now)
        try:
            say("funnel", 0, 2)
            funnel = Funnel(mode=mode, window_days=window_days).fit(journeys)
            say("time in stage", 1, 2)
            times = TimeInStage().fit(journeys)
        finally:
            journeys.release()
        n_people = funnel.n_people
    say("done", 2, 2)
    return Analysis(
        workspace=str(ws.root),
        computed_at=(now or datetime.now(UTC).replace(tzinfo=None)).isoformat(timespec="seconds"),
        filters=filters,
        n_people=n_people,
        funnel=funnel,
        time_in_stage=times,
    )
