"""The playbook's four phases as data: each phase's checklist, in the seed's wording, and its gate.

An item is *automatic* (ticked from what the workspace proves, see :mod:`leadjourney.reports.status`)
or *manual* (recorded with ``leadjourney status done ITEM``, kept in the ``checklist_items``
table). A phase's gate opens when its required items are done. Track B of the pre-kickoff comes first in phase 1: it is the
architect's data work this tool does, and everything after it builds on the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from leadjourney.errors import LeadJourneyError
from leadjourney.workspace import Workspace

AUTOMATIC, MANUAL = "automatic", "manual"


@dataclass(frozen=True)
class Item:
    """One checklist line: ``step`` is the playbook's sub-phase (1a, 1b, ...)."""

    id: str
    step: str
    title: str
    kind: str = MANUAL
    required: bool = True

    @property
    def automatic(self) -> bool:
        return self.kind == AUTOMATIC


@dataclass(frozen=True)
class Phase:
    number: int
    name: str
    goal: str
    gate: str  # the playbook's gate criteria
    items: tuple[Item, ...]
    optional: bool = False


def _auto(id: str, step: str, title: str) -> Item:
    return Item(id, step, title, AUTOMATIC)


PHASES: tuple[Phase, ...] = (
    Phase(1, "Strategy", "Get stakeholder sign-off on the inbound lead journey map, friction analysis, and "
          "prioritized recommendations.", "All stakeholders approved map and definitions", (
              _auto("data", "1a", "Extract lead data from CRM (last 90 days, or 6 months for low volume)"),
              _auto("quality", "1a", "Run a data quality check before analysis; document known gaps"),
              _auto("baseline", "1a", "Calculate baseline conversion rates (Lead → MQL → SQL → Opp), "
                    "time-in-stage and lead source breakdown"),
              Item("intake", "1a", "Intake form completed: inbound channels, current lead stages, known pain points"),
              Item("access", "1a", "CRM, marketing automation and web analytics read access granted"),
              Item("interview-guide", "1a", "Prepare stakeholder interview question list"),
              Item("kickoff", "1b", "Kickoff call held"),
              _auto("findings", "1b", "Validate conversion rates: ASSUMED metrics → CONFIRMED or corrected"),
              Item("interviews", "1c", "Stakeholder interviews complete (Marketing + Sales + RevOps)"),
              _auto("analysis", "1c", "CRM and MAP data extracted and analyzed"),
              _auto("drop-offs", "1c", "Drop-off points identified and quantified"),
              _auto("personas", "1c", "Buyer personas documented (2-3 primary)"),
              _auto("touchpoints", "1c", "Touchpoint inventory completed across all stages"),
              _auto("map", "1c", "Visual journey map created"),
              Item("map-review", "1c", "Journey map reviewed with all stakeholders (feedback on map accuracy)"),
              _auto("recommendations", "1d", "Recommendations prioritized and presented"),
              _auto("definitions", "1d", "Lead stage definitions and handoff criteria agreed"),
              Item("strategic-signoff", "1d", "Strategic sign-off obtained"),
          )),
    Phase(2, "Engineering", "Implement 2-3 quick-win improvements and build a monitoring dashboard based on "
          "journey map findings.", "Changes tested, dashboard validated, customer approved", (
              _auto("quick-wins", "2a", "Quick-win list finalized (2-3 items, <5 hours each)"),
              Item("changes", "2b", "CRM/MAP changes implemented (stage definitions, alerts, routing)"),
              Item("dashboard", "2c", "Monitoring dashboard built and validated"),
              Item("engineering-signoff", "2c", "Customer has reviewed and approved"),
          ), optional=True),
    Phase(3, "Enablement", "Customer team can read the journey map, use the dashboard, and maintain both "
          "independently.", "All training delivered, hypercare complete, team can operate independently", (
              Item("training-materials", "3a", "Training materials prepped (journey map walkthrough, dashboard guide)"),
              Item("training", "3b", "Training sessions delivered (Leadership + Technical)"),
              Item("hypercare", "3c", "Hypercare period complete (2 weeks)"),
              Item("enablement-signoff", "3d", "Enablement sign-off"),
          )),
    Phase(4, "Handoff", "Clean project close with maintenance plan established and retention/expansion path set.",
          "Internal/external handoffs complete, maintenance plan in place, project closed", (
              Item("maintenance", "4a", "Maintenance schedule documented and handed off"),
              Item("internal-handoff", "4b", "Internal handoff (SME → Architect) complete"),
              Item("external-handoff", "4c", "External handoff (LeanScale → Customer) complete"),
              Item("closed", "4d", "Project closed and archived"),
          )),
)

ITEMS: dict[str, Item] = {item.id: item for phase in PHASES for item in phase.items}


# -- what was recorded by hand ---------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """An item marked done with ``leadjourney status done`` (the note says what, where; no names)."""

    item_id: str
    done_at: datetime
    note: str | None


def find_item(item_id: str) -> Item:
    """The checklist item ``item_id``; the error names the valid ids."""
    item = ITEMS.get(item_id.strip().lower())
    if item is None:
        raise LeadJourneyError(f"no checklist item {item_id!r}; valid ids: {', '.join(ITEMS)}")
    return item


def records(ws: Workspace) -> dict[str, Record]:
    """Every item marked done by hand, by id."""
    ws.ensure_database()  # workspaces made before the checklist existed get the table now
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT item_id, done_at, note FROM checklist_items ORDER BY item_id").fetchall()
    return {str(r[0]): Record(str(r[0]), r[1], r[2]) for r in rows}


def mark_done(ws: Workspace, item_id: str, note: str | None = None, now: datetime | None = None) -> Record:
    """Record ``item_id`` as done (again: the date and note are replaced).

    An automatic item is ticked from the workspace; marking it by hand needs a note saying why
    the workspace cannot prove it (e.g. no web analytics export exists).
    """
    item = find_item(item_id)
    if item.automatic and not (note and note.strip()):
        raise LeadJourneyError(f"{item.id} is ticked automatically from the workspace (see `leadjourney status`); "
                               "to mark it done by hand, say why with --note")
    record = Record(item.id, now or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                    note.strip() if note and note.strip() else None)
    ws.ensure_database()
    with ws.connect() as con:
        con.execute("INSERT INTO checklist_items VALUES (?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET "
                    "done_at = excluded.done_at, note = excluded.note", [record.item_id, record.done_at, record.note])
    return record


def undo(ws: Workspace, item_id: str) -> bool:
    """Forget that ``item_id`` was marked done; False when it was not."""
    item = find_item(item_id)
    ws.ensure_database()
    with ws.connect() as con:
        found = con.execute("SELECT count(*) FROM checklist_items WHERE item_id = ?", [item.id]).fetchall()[0][0]
        con.execute("DELETE FROM checklist_items WHERE item_id = ?", [item.id])
    return bool(found)
