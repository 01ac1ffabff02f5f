"""One monitor run: metrics per period, the rules, the stored run, and (with notify) one alert message."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from leadjourney.analysis.findings import baseline
from leadjourney.db import scalar, transaction
from leadjourney.errors import MonitorError, OptionError
from leadjourney.monitor.alerts import Delivery, channels, deliver
from leadjourney.monitor.health import undated_stages, undated_verdict
from leadjourney.monitor.impact import impact_verdicts
from leadjourney.monitor.periods import (
    PERIODS,
    Period,
    PeriodMetrics,
    judged_periods,
    period_metrics,
    transition_maturity,
)
from leadjourney.monitor.quarterly import baseline_inventory, quarter_metrics, quarterly_verdicts
from leadjourney.monitor.report import write_report
from leadjourney.monitor.rules import SEVERITY, Verdict, checkin_verdict, evaluate
from leadjourney.tabular import Tabular
from leadjourney.workspace import Workspace

HEALTHY, RED_FLAGS, COULD_NOT_RUN = 0, 1, 2  # exit codes


@dataclass
class MonitorRun(Tabular):
    table_from = "verdicts"  # to_arrow() / to_pandas(): one row per item

    run_id: int
    started_at: datetime
    period: Period
    as_of: date
    verdicts: list[Verdict]
    deliveries: list[Delivery] = field(default_factory=list)
    earlier_failures: list[dict[str, Any]] = field(default_factory=list)  # failed deliveries of past runs
    sent_keys: list[str] = field(default_factory=list)  # new or escalated flags in this run's message
    metrics: list[PeriodMetrics] = field(default_factory=list)  # the judged periods' figures, oldest first
    reports: list[Path] = field(default_factory=list)  # the period report: Markdown, HTML

    @property
    def exit_code(self) -> int:
        return RED_FLAGS if any(v.raised for v in self.verdicts) else HEALTHY

    @property
    def status(self) -> str:
        return "red_flags" if self.exit_code else "healthy"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "started_at": self.started_at.isoformat(timespec="seconds"),
            "period": {"kind": self.period.kind, "label": self.period.label,
                       "start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "as_of": self.as_of.isoformat(), "status": self.status, "exit_code": self.exit_code,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "deliveries": [vars(d) for d in self.deliveries],
            "earlier_failures": self.earlier_failures, "sent_keys": self.sent_keys,
            "reports": [str(p) for p in self.reports],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def message(self, report_url: str | None = None, labels: Mapping[str, str] | None = None) -> tuple[str, str]:
        """The alert's subject and body: every verdict as people read it (the most urgent first, the new ones
        marked, its key for analysts), earlier failed deliveries, and where the period report is
        (``report_url``: the base URL it is published under; ``labels``: the display names)."""
        from leadjourney.monitor.readable import headline, period_name, ranked

        raised = [v for v in self.verdicts if v.raised]
        subject = f"leadjourney monitor {self.period.label}: " + (headline(self.verdicts) if raised else "healthy")
        lines = [f"{period_name(self.period.label)} (leads created {self.period.start} to {self.period.end}), "
                 f"as of {self.as_of}: {headline(self.verdicts)}.", ""]
        for r in ranked(self.verdicts, labels):
            v = r.verdict
            new = " [NEW]" if v.key in self.sent_keys else ""
            lines.append(f"- {r.label}{new} · {r.subject}: {r.reason} [{v.key}]")
            if v.notified and v.action:
                lines.append(f"  Action: {v.action}")
        if self.reports:
            lines += ["", f"Period report: {self.reports[0]}"]
            if report_url:
                lines.append(f"Link: {report_url.rstrip('/')}/{self.reports[0].name}")
        if self.earlier_failures:
            lines += ["", "Earlier alerts that could not be delivered:"]
            lines += [f"- run {f['run_id']} via {f['channel']}: {f['error']}" for f in self.earlier_failures]
        return subject, "\n".join(lines) + "\n"



def run_monitor(ws: Workspace, period: str = "month", as_of: date | None = None, notify: bool = False,
                sleep: Callable[[float], None] = time.sleep) -> MonitorRun:
    """Evaluate the rules for the latest judged period, store the run, and send alerts if asked."""
    if period not in PERIODS:
        raise OptionError(f"period: expected {' or '.join(PERIODS)}, found {period!r}")
    if notify and not channels(ws.config.alerts):  # a cron job asked for alerts that would never go out
        raise MonitorError(f"notify: no alert channel configured; set [alerts] smtp_host (e-mail) or "
                           f"slack_webhook_env (webhook) in {ws.config_path.name}, or run without --notify")
    ws.ensure_database()
    base = baseline(ws)
    if base is None:
        raise MonitorError("no baseline stored; run `leadjourney analyze WORKSPACE --baseline` first")
    started = datetime.now(UTC).replace(tzinfo=None)
    as_of = as_of or started.date()
    s = ws.config.monitor
    periods = judged_periods(period, as_of, s.consecutive_periods, s.maturity_days)
    maturity = transition_maturity(ws, base, s.transitions, s.maturity_days, s.maturity_quantile)
    own = {t: judged_periods(period, as_of, s.consecutive_periods, days) for t, (days, _) in maturity.items()}
    metrics = {p: period_metrics(ws, p, as_of, speed=p in periods)  # speed-to-lead: the run's own periods
               for p in sorted({*periods, *(p for ps in own.values() for p in ps)}, key=lambda p: p.start)}
    history = [metrics[p] for p in periods]
    by_transition = {t: ([metrics[p] for p in ps], maturity[t][1]) for t, ps in own.items()}
    with ws.connect(read_only=True) as con:
        last_ingest = con.execute("SELECT max(finished_at) FROM ingests").fetchone()
    age = None if not last_ingest or last_ingest[0] is None else (started - last_ingest[0]).total_seconds() / 86400
    verdicts = evaluate(history, base, age, s, by_transition)
    reference = [periods[-1]]
    while len(reference) <= s.undated_reference_periods:
        reference.append(reference[-1].previous())
    verdicts.append(undated_verdict(undated_stages(ws, reference, as_of), s))
    if period == "quarter":  # the playbook's quarterly tasks; monthly runs keep the monthly rules
        latest, previous = (quarter_metrics(ws, p, as_of) for p in (periods[-1], periods[-1].previous()))
        verdicts += quarterly_verdicts(latest, previous, baseline_inventory(ws, base, as_of), s)
    verdicts += impact_verdicts(ws, base, as_of, s)
    if base.computed_at:
        verdicts.append(checkin_verdict(base, as_of, s))
    run = MonitorRun(0, started, periods[-1], as_of, verdicts, metrics=list(metrics.values()))
    with ws.connect() as con:
        run.run_id = int(scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM monitor_runs"))
        rows = con.execute("SELECT run_id, channel, error FROM monitor_deliveries WHERE NOT ok AND reported_in "
                           "IS NULL ORDER BY run_id").fetchall()
        run.earlier_failures = [{"run_id": r[0], "channel": r[1], "error": r[2]} for r in rows]
        alerted = dict(con.execute("SELECT key, status FROM monitor_alerted").fetchall())
    run.sent_keys = [v.key for v in run.verdicts
                     if v.notified and SEVERITY[v.status] > SEVERITY.get(alerted.get(v.key, "ok"), 0)]
    cleared = [k for k in alerted if k not in {v.key for v in run.verdicts if v.notified}]
    run.reports = write_report(run, run.metrics, ws.out_dir, ws.config)
    if notify and (run.sent_keys or cleared or run.earlier_failures):
        subject, body = run.message(ws.config.alerts.report_url, ws.config.labels)
        run.deliveries = deliver(ws.config.alerts, subject, body, sleep=sleep, attachments=run.reports)
    _store(ws, run, notify, cleared)
    return run


def _store(ws: Workspace, run: MonitorRun, notify: bool, cleared: list[str]) -> None:
    sent = bool(run.deliveries) and any(d.ok for d in run.deliveries)
    with ws.connect() as con, transaction(con):
        con.execute("INSERT INTO monitor_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run.run_id, run.started_at, run.period.kind, run.period.start, run.period.end, run.as_of,
            run.status, run.exit_code, run.to_json()])
        for v in run.verdicts:
            con.execute("INSERT INTO monitor_verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                run.run_id, v.key, v.rule, v.metric, v.status, v.value, v.baseline, v.threshold, v.n,
                v.evidence, v.action])
        for d in run.deliveries:
            con.execute("INSERT INTO monitor_deliveries VALUES (?, ?, ?, ?, ?, ?, NULL)", [
                run.run_id, d.channel, run.started_at, d.attempts, d.ok, d.error])
        if sent:
            con.execute("UPDATE monitor_deliveries SET reported_in = ? WHERE NOT ok AND reported_in IS NULL "
                        "AND run_id < ?", [run.run_id, run.run_id])
            by_key = {v.key: v for v in run.verdicts}
            for key in run.sent_keys:
                con.execute("INSERT OR REPLACE INTO monitor_alerted VALUES (?, ?, ?)",
                            [key, by_key[key].status, run.run_id])
        if notify:
            for key in cleared:
                if not run.deliveries or sent:
                    con.execute("DELETE FROM monitor_alerted WHERE key = ?", [key])


def history(ws: Workspace, limit: int = 20) -> list[dict[str, Any]]:
    """Past runs, newest first, with their failed deliveries."""
    ws.ensure_database()
    with ws.connect(read_only=True) as con:
        runs = con.execute("SELECT result FROM monitor_runs ORDER BY run_id DESC LIMIT ?", [limit]).fetchall()
        fails = con.execute("SELECT run_id, channel, attempts, error, reported_in FROM monitor_deliveries "
                            "WHERE NOT ok").fetchall()
    out = []
    for (result,) in runs:
        r = json.loads(result)
        r["failed_deliveries"] = [{"channel": f[1], "attempts": f[2], "error": f[3], "reported_in": f[4]}
                                  for f in fails if f[0] == r["run_id"]]
        out.append(r)
    return out
