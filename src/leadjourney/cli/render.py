"""Terminal renderings (Rich) of the results the commands return."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from leadjourney.display import arrows, display_name, percent
from leadjourney.escape import terminal_text
from leadjourney.progress import Progress as ProgressFn
from leadjourney.schema import (
    NOTE_DECIMAL_ID,
    NOTE_DUPLICATE_COLUMN,
    NOTE_EPOCH_UNIT,
    NOTE_FILTERED_OUT,
)

if TYPE_CHECKING:  # the result types only: the layers load when a command computes something
    from leadjourney.analysis import Analysis
    from leadjourney.analysis.findings import Finding
    from leadjourney.analysis.friction import FrictionRow
    from leadjourney.analysis.paths import Paths
    from leadjourney.analysis.persona_profiles import PersonaProfiles
    from leadjourney.analysis.touchpoints import TouchpointInventory
    from leadjourney.ingest import IngestReport
    from leadjourney.quality import QualityReport


class LiveConsole(Console):
    """A console that reads its width (``COLUMNS``, else the terminal's) whenever it prints, not once when the
    module is imported: a second command in the same process (a notebook, the test suite) gets its own width."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._width = None  # Console fixes COLUMNS at construction; None makes ``size`` read it live

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


@contextmanager
def progress_bar(console: Console, title: str) -> Iterator[ProgressFn]:
    """A Rich progress bar fed by a :class:`leadjourney.progress.Progress` callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(f"[bold]{title}[/bold]"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        yield update


def ingest_table(report: IngestReport) -> Table:
    table = Table(title="Ingest", title_justify="left")
    table.add_column("source")
    table.add_column("status")
    table.add_column("rows read", justify="right")
    table.add_column("loaded into", justify="right")
    table.add_column("quarantined", justify="right")
    for src in report.sources:
        loaded = "\n".join(f"{n:,} {t}" for t, n in src.rows_loaded.items()) or "-"
        quarantined = "\n".join(f"{n:,} {r}" for r, n in sorted(src.quarantined.items())) or "0"
        read = f"{src.rows_read:,}" if src.status == "loaded" else "-"
        table.add_row(terminal_text(src.name), src.status, read, loaded, terminal_text(quarantined))
    return table


_WARNINGS = {
    NOTE_DUPLICATE_COLUMN: "column {column!r} appears more than once in the header: the first is read "
                           "(the repeat is named {value!r})",
    NOTE_EPOCH_UNIT: "{column} holds numbers: {n:,} read as epoch {value} (UTC), the unit told by their size",
    NOTE_DECIMAL_ID: "{column} holds ids as decimal numbers ({value}): {n:,} whole ones read as ids without "
                     "the '.0'",
    NOTE_FILTERED_OUT: "{n:,} row(s) left out by the source's where (on {column}), not loaded",
}


def ingest_problems(report: IngestReport) -> list[str]:
    """One line per source naming the rows it did not load (row, column, reason), and one per warning."""
    lines = []
    for src in report.sources:
        if src.rejected_rows:
            named = "; ".join(f"row {row}" + (f" column {column!r}" if column else "") + f": {reason}"
                              for row, column, reason in src.rejected)
            more = src.rejected_rows - len(src.rejected)
            lines.append(f"[yellow]{terminal_text(src.file)}: {src.rejected_rows:,} row(s) quarantined, not loaded "
                         f"({terminal_text(named)}{f'; and {more:,} more' if more else ''}): see the quarantine table "
                         f"or `leadjourney quality`.[/yellow]")
        if src.header_only:
            lines.append(f"[yellow]{terminal_text(src.file)}: warning: a header and no rows: 0 rows loaded (source "
                         f"{terminal_text(src.name)} now holds none).[/yellow]")
        for note, column, value, n in src.warnings:
            text = _WARNINGS[note].format(column=column, value=value, n=n)
            lines.append(f"[yellow]{terminal_text(src.file)}: warning: {terminal_text(text)}.[/yellow]")
    return lines


def ingest_summary(report: IngestReport) -> list[str]:
    rows = report.table_rows
    lines = [
        "Workspace now holds " + ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in rows.items()) + ".",
        f"{report.identity.duplicate_people:,} duplicate people linked; "
        f"{report.identity.excluded_leads:,} unqualified contacts excluded; "
        f"{report.identity.derived_first_stage_events:,} first-stage entries taken from creation dates.",
    ]
    if report.stale_origins:
        lines.append(f"[yellow]Rows from sources no longer configured: {', '.join(report.stale_origins)} "
                     f"(remove them with --prune).[/yellow]")
    if report.pruned:
        lines.append(f"Removed rows of sources no longer configured: {', '.join(report.pruned)}.")
    return lines


def print_ingest(console: Console, report: IngestReport) -> None:
    """The ingest table, the rows and files with problems, and the summary lines."""
    console.print(ingest_table(report))
    for line in ingest_problems(report):
        console.print(line, soft_wrap=True)
    for line in ingest_summary(report):
        console.print(line)


def print_analysis(console: Console, result: Analysis, labels: Mapping[str, str] | None = None) -> None:
    """The funnel, time in stage, headlines and friction (``labels``: the workspace's display names)."""
    console.print(funnel_table(result))
    console.print(time_table(result))
    for line in headlines(result, labels):
        console.print(terminal_text(line))
    console.print(friction_table(result, labels=labels))
    for line in friction_lines(result):
        console.print(line)
    if result.campaigns.has_data:
        console.print("[bold]Campaigns and content[/] (tables in out/analysis.md)")
        for line in result.campaigns.headlines():
            console.print(terminal_text(line))


def quality_table(report: QualityReport) -> Table:
    """The checks at a glance; what each finding does to the analysis is in out/quality.md."""
    table = Table(title=f"Data quality: {report.leads:,} leads, {report.opportunities:,} opportunities",
                  title_justify="left")
    table.add_column("check")
    table.add_column("severity")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("examples", overflow="fold")  # wrapped at spaces; only a token wider than the column folds
    for r in report.results:
        severity = "[green]ok[/green]" if r.passed else f"[{_SEVERITY_STYLE[r.severity]}]{r.severity}[/]"
        examples = ", ".join(_file_name(e) for e in r.examples[:2])
        table.add_row(terminal_text(r.title), severity, f"{r.count:,}", "-" if r.share is None else f"{r.share:.1%}",
                      terminal_text(examples))
    return table


def _file_name(example: str) -> str:
    """An example that starts with a file path, from its file name on (``data/x/leads.csv:12`` -> ``leads.csv:12``):
    the terminal's column holds it whole; out/quality.md keeps the path."""
    path, sep, rest = example.partition(":")
    if sep and "/" in path and " " not in path:
        return path.rsplit("/", 1)[-1] + sep + rest
    return example


def quality_quarantine(report: QualityReport) -> list[str]:
    """The rows ingest did not load and the values it set to NULL, by reason (Rich markup, values escaped)."""
    reasons = sorted(set(report.not_loaded) | set(report.values_nulled))
    if not reasons:
        return ["Quarantine: none, every row of every source loaded."]
    parts = [terminal_text(reason) + ": " + ", ".join(
        f"{n:,} {what}" for n, what in ((report.not_loaded.get(reason, 0), "row(s) not loaded"),
                                        (report.values_nulled.get(reason, 0), "value(s) set to NULL")) if n)
        for reason in reasons]
    return ["[yellow]Quarantine (file, row, column and value of each in the workspace table `quarantine`): "
            + "; ".join(parts) + ".[/yellow]"]


def funnel_table(result: Analysis) -> Table:
    f = result.funnel
    table = Table(title=f"Funnel ({f.mode}): {result.n_people:,} people", title_justify="left")
    for col in ("transition", "entered", "converted", "rate", "95% interval"):
        table.add_column(col, justify="left" if col == "transition" else "right")
    from leadjourney.analysis.funnel import WITHOUT_DATA

    notes = []
    for t in f.transitions:
        rate = "-" if t.rate is None else f"{t.rate:.1%}"
        ci = "-" if t.ci_low is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"
        if not t.status.judged:
            rate, ci = f"[dim]{rate}*[/dim]", f"[dim]{ci}[/dim]"
            notes.append(f"* {t.from_stage} → {t.to_stage}: {t.status.text()}")
        table.add_row(terminal_text(f"{t.from_stage} → {t.to_stage}"), f"{t.entered:,}", f"{t.converted:,}", rate, ci)
    notes += [f"{s}: {WITHOUT_DATA}" for s in f.stages_without_data]
    if notes:
        table.caption, table.caption_justify = terminal_text("\n".join(notes)), "left"
    return table


def time_table(result: Analysis) -> Table:
    table = Table(title="Time in stage (days)", title_justify="left")
    for col in ("transition", "completed", "waiting", "median", "p90", "KM median"):
        table.add_column(col, justify="left" if col == "transition" else "right")
    for r in result.time_in_stage.rows:
        km = "not reached" if not r.km_median_reached else f"{r.km_median_days:.1f}"
        table.add_row(terminal_text(f"{r.from_stage} → {r.to_stage}"), f"{r.n_completed:,}", f"{r.n_censored:,}",
                      "-" if r.median_days is None else f"{r.median_days:.1f}",
                      "-" if r.p90_days is None else f"{r.p90_days:.1f}", km)
    return table


def friction_lines(result: Analysis) -> list[str]:
    """Bookings beside the recoverable revenue (and the upper bound), the deal size, and the default's
    warning: the lines printed above the friction table (Rich markup)."""
    from leadjourney.analysis.friction import friction_notes, money

    fr = result.friction
    cur, per = fr.currency, fr.per
    lines = []
    if fr.deal_size_warning:
        lines.append(f"[bold yellow]Warning: {terminal_text(fr.deal_size_warning)}.[/bold yellow]")
    bookings = (money(fr.bookings_per_year, cur) if fr.bookings_per_year is not None
                else "- (no won deals with amounts)")
    lines.append(f"Current bookings [bold]{bookings}/{per}[/bold] · recoverable at the transitions "
                 f"[bold]{money(fr.total_recoverable(), cur)}/{per}[/bold] · value of all drop-offs "
                 f"{money(fr.total_value_of_all_dropoffs(), cur)}/{per} (upper bound, not a forecast).")
    lines.append(terminal_text(f"Deal size {money(fr.deal_size, cur)} ({fr.deal_size_source}); {fr.period_text}."))
    lines += [terminal_text(line) for line in friction_notes(fr)]
    return lines


def _target_short(r: FrictionRow) -> str:
    if r.target_rate is None:
        return "no target"
    source = r.target_source
    if source.startswith("configured"):
        where = "configured"
    elif source.startswith("benchmark"):
        cite = re.search(r"\[[^\]]*\]", source)
        where = "benchmark" + (f" {cite.group(0)}" if cite else "")
    else:
        where = source.split(":", 1)[0]
    return f"{r.target_rate:.1%}\n{where}"


def friction_table(result: Analysis, top: int = 8, labels: Mapping[str, str] | None = None) -> Table:
    """The friction ranking by recoverable revenue: rate against its named target, the recoverable figure
    beside the value of all drop-offs (the upper bound)."""
    from leadjourney.analysis.friction import money

    fr = result.friction
    per = fr.per
    table = Table(title=f"Friction by recoverable revenue ({fr.currency} per {'year' if fr.annualized else per}; "
                        f"top {min(top, len(fr.rows))} of {len(fr.rows)})", title_justify="left")
    for name, justify in (("#", "right"), ("transition", "left"), ("rate", "right"), ("target", "left"),
                          ("recover-\nable", "right"), ("upper\nbound", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    notes = []
    for r in fr.rows[:top]:
        rate = "-" if r.rate is None else f"{r.rate:.1%}"
        if not r.status.judged:  # marked as the funnel marks it; a young transition is priced from its projection
            rate = f"[dim]{rate}*[/dim]"
            notes.append(f"* {r.label}: {r.status.text()}")
        recoverable = (money(r.recoverable_per_year, fr.currency) if r.recoverable_per_year is not None
                       else f"- {r.status.status.value.replace('_', ' ')}")
        segment = f"\n  {display_name(r.segment.split('=', 1)[-1], labels)}" if r.segment else ""  # the target names the kind
        table.add_row(str(r.rank), terminal_text(f"{r.from_stage} → {r.to_stage}{segment}"), rate,
                      terminal_text(_target_short(r)), terminal_text(recoverable), money(r.value_of_all_dropoffs_per_year, fr.currency))
    if not fr.rows:
        table.add_row("-", "no transition loses people", "", "", "", "")
    if notes:
        table.caption, table.caption_justify = terminal_text("\n".join(notes)), "left"
    return table


def findings_table(items: list[Finding], title: str = "Findings") -> Table:
    """The findings of one selection; a signed one the latest analysis contradicts shows both numbers."""
    table = Table(title=title, title_justify="left")
    longest = max((len(f.finding_id) for f in items), default=10)
    table.add_column("id · finding", min_width=min(longest, 56), overflow="fold")  # the id whole, to paste
    table.add_column("status", no_wrap=True)
    table.add_column("note")
    style = {"ASSUMED": "yellow", "CONFIRMED": "green", "CORRECTED": "cyan"}
    for f in items:
        text = terminal_text(arrows(f.statement))
        if f.changed_since_signoff:
            now = (f"now: {terminal_text(arrows(f.current_statement or ''))} (snapshot {f.current_snapshot_id})" if f.restated and
                   f.current_statement else f"not stated by the latest analysis (snapshot {f.current_snapshot_id})")
            text += f"\n[bold magenta]changed since sign-off[/] - {now}"
        table.add_row(f"[bold]{terminal_text(f.finding_id)}[/bold]\n{text}", f"[{style.get(f.status, 'white')}]{f.status}[/]",
                      terminal_text(f.note or ""))
    return table


def headlines(result: Analysis, labels: Mapping[str, str] | None = None) -> list[str]:
    """Speed-to-lead, dark leads and significant segments in a few lines (tables are in out/analysis.md)."""
    speed, dark = result.speed_to_lead, result.dark_leads
    lines = [f"{name} {terminal_text(m.text())}." for name, m in (("Speed-to-lead", speed.status), ("Dark leads", dark.status))
             if not m.judged]
    if speed.n_judged:
        median = "-" if speed.median_minutes is None else f"{speed.median_minutes / 60:.1f} h"
        lines.append(f"Speed-to-lead: median {median}, {speed.share_within_5_min or 0:.1%} within 5 minutes "
                     f"(benchmark: 5 minutes), {speed.never_contacted_share or 0:.1%} never contacted by a person.")
    if dark.n_open:
        lines.append(f"Dark leads: {dark.n_dark:,} of {dark.n_open:,} open people ({dark.dark_share or 0:.1%}); "
                     f"{dark.n_re_engaged:,} came back after a dark spell.")
    for seg, label in ((result.sources, "Sources"), (result.personas, "Personas")):
        significant = [c for c in seg.conversion if c.significant]
        if significant:
            lines.append(f"{label} that differ significantly:")
            lines += [f"  · {display_name(c.source, labels)}: {c.from_stage} → {c.to_stage} {c.rate:.0%} "
                      f"({c.direction})" for c in significant[:4]]
    return lines


def print_json(data: object) -> None:
    """JSON on stdout, nothing else (for pipes)."""
    import json

    print(json.dumps(data, indent=2, default=str))


def touchpoint_table(inventory: TouchpointInventory, top: int = 8, labels: Mapping[str, str] | None = None) -> Table:
    """The busiest touchpoints of each stage, by display name; the full inventory is in out/touchpoints.*.
    The lift's interval wraps under it, so the table reads at 80 columns."""
    table = Table(title=f"Touchpoint inventory (top {top} per stage by volume)", title_justify="left")
    for name, justify in (("stage", "left"), ("touchpoint · channel", "left"), ("by", "left"), ("volume", "right"),
                          ("people", "right"), ("lift (95% CI)", "right")):
        table.add_column(name, justify=justify, no_wrap=name in ("by", "volume", "people"))  # type: ignore[arg-type]
    shown: dict[str, int] = {}
    for r in inventory.rows:
        if shown.get(r.stage, 0) >= top:
            continue
        shown[r.stage] = shown.get(r.stage, 0) + 1
        lift = "-" if r.lift is None else f"{r.lift:+.1%} ({r.lift_ci_low:+.1%}, {r.lift_ci_high:+.1%})"
        channel = display_name(r.channel, labels) if r.channel else "-"
        table.add_row(terminal_text(display_name(r.stage, labels)),
                      terminal_text(f"{display_name(r.kind, labels)} · {channel}"),
                      "auto" if r.automated else "human", f"{r.volume:,}", f"{r.unique_leads:,}", lift)
    return table


def persona_table(profiles: PersonaProfiles, labels: Mapping[str, str] | None = None) -> Table:
    """Each persona by display name, its size, top source and end-to-end conversion (80 columns wide)."""
    rows = profiles.summary()
    longest = max((len(w) for r in rows for w in display_name(r["persona"], labels).split()), default=7)
    table = Table(title="Personas", title_justify="left")
    for name, justify in (("persona", "left"), ("people", "right"), ("share", "right"), ("top source", "left"),
                          ("end to end", "right"), ("employees", "right"), ("differs", "right")):
        table.add_column(name, justify=justify,  # type: ignore[arg-type]
                         min_width=min(longest, 24) if name == "persona" else None)  # a name never cut mid-word
    table.caption, table.caption_justify = ("end to end: first → last stage; employees: the median; differs: at how "
                                            "many points it differs significantly from the others"), "left"
    for row in rows:
        median = row["employees_median"]
        top = row["top_source"]
        table.add_row(terminal_text(display_name(row["persona"], labels)), f"{row['people']:,}", percent(row["share"]),
                      terminal_text(display_name(str(top), labels) if top else "-"), percent(row["end_to_end"]),
                      "-" if median is None else f"{median:,.0f}", str(row["differences"]))
    return table


def toml_lines(text: str, width: int) -> str:
    """TOML for the terminal: a comment longer than ``width`` wraps onto more comment lines (a wrapped
    comment pasted without its "#" is invalid TOML); other lines stay whole, printed without wrapping."""
    import textwrap

    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and len(line) > width:
            out += textwrap.wrap(line.lstrip("# "), width, initial_indent="# ", subsequent_indent="#   ",
                                 break_long_words=False, break_on_hyphens=False)
        else:
            out.append(line)
    return "\n".join(out)


def paths_table(paths: Paths) -> Table:
    happy = "-" if paths.happy_share is None else f"{paths.happy_share:.1%}"
    table = Table(title=f"Most common paths (happy path: {happy} of people; {paths.n_re_engaged:,} re-engaged "
                        "after going dark)", title_justify="left")
    for name, justify in (("path", "left"), ("outcome", "left"), ("people", "right"), ("share", "right"),
                          ("median days", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for v in paths.variants:
        days = "-" if v.median_days is None else f"{v.median_days:.1f}"
        table.add_row(terminal_text(" → ".join(v.stages)), v.outcome, f"{v.people:,}", f"{v.share:.1%}", days)
    return table


_WORD = re.compile(r"""(?:[^\s'"]+|'[^']*'|"[^"]*")+""")


def command_lines(command: str, width: int) -> list[str]:
    """A shell command split into lines of at most ``width`` characters at its arguments (never inside a
    quoted one), to print joined by " \\" continuations: pasted into a shell, it runs as one command.
    An option stays beside its value ("--note "WHAT, WHERE"") where the two fit on a line."""
    if len(command) <= width:
        return [command]
    words = _WORD.findall(command)
    groups: list[str] = []
    for w in words:
        if groups and groups[-1].startswith("--") and " " not in groups[-1] and not w.startswith("--"):
            groups[-1] += " " + w
        else:
            groups.append(w)
    lines = [""]
    for g in groups:
        trial = f"{lines[-1]} {g}".strip()
        if lines[-1] and len(trial) > width - 2:  # room for the " \\"
            lines.append(g)
        else:
            lines[-1] = trial
    return lines
