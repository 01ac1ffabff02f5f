"""The catalogue of actions a recommendation can propose, with typical hours, as data.

Seeded with the playbook's Phase 2a table "Common quick wins for journey mapping
projects" (titles, systems and typical times in its words); the few actions the table
lacks are marked ``origin = "leadjourney estimate"``. Each recommendation rule names the
action it proposes in :data:`RULE_ACTIONS`.

Texts are templates: ``{from_stage}``, ``{to_stage}``, ``{stage}``, ``{source}`` (its display
name, "Paid social"), ``{signal}`` and the other placeholders a rule supplies are filled in when a rule fires;
an unknown placeholder is left as written.

:func:`apply_overrides` takes the raw ``[[actions]]`` tables of a config, so a workspace
can change hours or wording, hide an action, add one, or point a rule at another action:

>>> cat = apply_overrides(DEFAULT_CATALOGUE, [{"key": "speed_alert", "hours_high": 4}])
>>> cat.actions["speed_alert"].hours_low, cat.actions["speed_alert"].hours_high
(2.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from leadjourney.errors import OptionError

PLAYBOOK = "playbook quick-win table"
ESTIMATE = "leadjourney estimate"


@dataclass(frozen=True)
class Action:
    """One change a team can make, with the typical effort in hours (low-high)."""

    key: str
    title: str  # template
    system: str
    hours_low: float
    hours_high: float
    changes: tuple[str, ...]  # templates: the fields, workflows and alerts to change
    acceptance: str  # template: the check that the change worked, tied to the metric
    origin: str = PLAYBOOK

    def render(self, text: str, params: Mapping[str, object]) -> str:
        """``text`` with the placeholders this firing supplies filled in."""
        return text.format_map(_Params(params))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "system": self.system, "hours_low": self.hours_low,
                "hours_high": self.hours_high, "changes": list(self.changes), "acceptance": self.acceptance,
                "origin": self.origin}


class _Params(dict[str, object]):
    def __init__(self, params: Mapping[str, object]) -> None:
        super().__init__(params)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


DEFAULT_ACTIONS: tuple[Action, ...] = (
    Action(
        "define_stages", "Update lead stage definitions in CRM", "Salesforce/HubSpot", 1, 2,
        ("Lifecycle stage picklist: one value per agreed stage ({stages}), each with its written entry "
         "criterion in the field's help text",
         "Date fields: one per stage (`MQL Date`, `SQL Date`, ...), stamped by a workflow when the stage is set "
         "and never left empty",
         "Validation rule: a record cannot enter {skipped} without a date in every earlier stage's date field",
         "Report: records in a stage without the earlier stages' dates (skipped stages), reviewed monthly"),
        "Share of stage entries without a CRM date (skipped stages) falls from {current} to {target} for "
        "records created after the change",
    ),
    Action(
        "speed_alert", "Configure speed-to-lead alert for new MQLs", "CRM + Slack/email", 2, 3,
        ("Field: `{signal} Date` (date/time), stamped by a workflow when the lifecycle stage becomes {signal}",
         "Workflow: on entry to {signal}, assign an owner (round robin) and create a task 'Call within 5 minutes'",
         "Alert: Slack/e-mail to the owner at once, and to the sales manager when no call or sales e-mail is "
         "logged within {alert_minutes} minutes of `{signal} Date`",
         "Report: time from `{signal} Date` to the first sales activity (median, average, share within "
         "5 minutes) on the dashboard"),
        "Median time from {signal} to the first human touch at or below {target} (now {current}); the average "
        "stays under the playbook's 2-hour red flag",
    ),
    Action(
        "source_field", "Add lead source tracking field", "CRM", 1, 2,
        ("Field: `Lead Source` (picklist of the configured channels), required on create",
         "Forms: hidden UTM source / medium / campaign fields mapped to `Lead Source` and `Lead Source Detail`",
         "Workflow: fill an empty `Lead Source` from the original traffic source",
         "Report: new leads with an empty or unmapped `Lead Source`, weekly"),
        "Leads with an unknown source fall from {current} to {target} of new leads",
    ),
    Action(
        "sla_alert", "Create {from_stage}-to-{to_stage} SLA alert", "CRM + automation", 2, 3,
        ("Field: `{from_stage} SLA Due` = `{from_stage} Date` + {sla_days} days (formula)",
         "Stage exit criteria: each {from_stage} record leaves as {to_stage} or with a disqualification reason "
         "(required picklist) by `{from_stage} SLA Due`",
         "Alert: to the owner when `{from_stage} SLA Due` passes without a stage change; to the manager two days "
         "later",
         "Report: {from_stage} records past their SLA, by owner, weekly"),
        "{metric} rises from {current} to {target}; fewer people wait in {from_stage} past {sla_days} days",
    ),
    Action(
        "scoring_threshold", "Update lead scoring threshold criteria", "MAP", 2, 4,
        ("Lead score: add fit criteria (job title, company size) and behavioural points (pricing page, demo "
         "request) so the score that triggers {from_stage} predicts {to_stage}",
         "MQL threshold: raise it (or add a required fit criterion) for {segment}",
         "Workflow: leads below the new threshold stay in nurture instead of going to sales",
         "Report: {from_stage} → {to_stage} conversion by score band, monthly"),
        "{metric} rises from {current} to {target}",
    ),
    Action(
        "nurture_fix", "Fix broken nurture sequence at drop-off", "MAP", 2, 4,
        ("Audit the {stage} nurture: unsent e-mails, empty lists, contacts exited by mistake",
         "Segment: open {stage} leads with no engagement for {dark_days} days (smart list)",
         "Workflow: three-touch re-engagement sequence over three weeks (useful content, case study, "
         "'still interested?' with a meeting link); exit on any engagement",
         "Alert: notify the owner when a dark {stage} lead re-engages (e-mail click, pricing page visit)"),
        "{metric} falls from {current} to {target}",
    ),
    Action(
        "nurture_step", "Fix broken nurture sequence at drop-off: {campaign}, step {step}", "MAP", 2, 4,
        ("Audit step {step} of {campaign} ({asset}): its send conditions, wait step and smart list; contacts "
         "removed or exited by mistake; the e-mail's links, subject line and offer",
         "Workflow: send step {next_step} to the people who received step {step} and were left out (a one-off "
         "batch), then let the stream continue",
         "Alert: notify marketing ops when fewer than {keep_share} of a step's recipients receive the next step "
         "within {wait_days} days",
         "Report: {campaign} step-by-step funnel (received, continued, unsubscribed), monthly"),
        "{metric} falls from {current} to {target}",
    ),
    Action(
        "campaign_fix", "Rework or retire the {campaign} e-mail campaign", "MAP", 3, 6,
        ("Review {campaign}: audience (list, segment), subject lines, offer and call to action against the "
         "campaigns clicking better{better}",
         "Test: an A/B test of subject line and call to action on the next send, one change at a time",
         "Segment: suppress recipients who have not opened the last five sends (deliverability)",
         "Report: clicks per delivered e-mail by campaign, in the monthly campaign review"),
        "{metric} rises from {current} to {target} (the other campaigns' rate)",
        origin=ESTIMATE,
    ),
    Action(
        "routing_sla", "Route every new {signal} to an owner with a first-touch SLA", "CRM + automation", 3, 6,
        ("Assignment rule: every new {signal} gets an owner (round robin or territory); none waits in a queue",
         "Field: `First Sales Touch Date`, stamped by the first call or sales e-mail",
         "Alert: daily digest to the sales manager of {signal}s older than {judge_days} days with no "
         "`First Sales Touch Date`",
         "Report: never-contacted {signal}s by owner and source"),
        "Share of {signal}s never contacted by a person falls from {current} to {target}",
        origin=ESTIMATE,
    ),
    Action(
        "rebalance_source", "Rebalance or qualify {source} leads", "MAP + ad platforms", 6, 12,
        ("Review {source} campaigns (audiences, offers, forms) and pause the ones that bring no {to_stage}s",
         "Shift budget toward channels converting significantly better at {from_stage} → {to_stage}{better}",
         "Forms: add a fit question (company size, role) to {source} landing pages",
         "Report: {source} conversion by campaign, in the quarterly channel performance review"),
        "{metric} rises from {current} to {target} (the other sources' rate)",
        origin=ESTIMATE,
    ),
)

# rule -> action key; the rules are in leadjourney.reports.rules
RULE_ACTIONS: dict[str, str] = {
    "slow_speed_to_lead": "speed_alert",
    "never_contacted": "routing_sla",
    "weak_source_before_gate": "rebalance_source",
    "weak_source_after_gate": "scoring_threshold",
    "dark_stage": "nurture_fix",
    "stall": "sla_alert",
    "skipped_stages": "define_stages",
    "definition_drift": "define_stages",
    "unknown_source": "source_field",
    "below_benchmark_at_gate": "scoring_threshold",
    "below_benchmark_before_gate": "nurture_fix",
    "below_benchmark_after_gate": "sla_alert",
    "broken_nurture_step": "nurture_step",
    "weak_campaign": "campaign_fix",
}


@dataclass(frozen=True)
class Catalogue:
    """The actions in effect and which action each rule proposes."""

    actions: dict[str, Action] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)

    def for_rule(self, rule: str) -> Action | None:
        """The action ``rule`` proposes; None when it was hidden (``enabled = false``)."""
        return self.actions.get(self.rules.get(rule, ""))


DEFAULT_CATALOGUE = Catalogue({a.key: a for a in DEFAULT_ACTIONS}, dict(RULE_ACTIONS))

_FIELDS = {"title": str, "system": str, "hours_low": float, "hours_high": float, "changes": tuple,
           "acceptance": str, "origin": str}


def apply_overrides(catalogue: Catalogue, entries: Sequence[Mapping[str, Any]]) -> Catalogue:
    """The catalogue with ``[[actions]]`` entries applied: replace fields, hide, add, re-point rules.

    Keys: ``key`` (required), ``enabled``, ``title``, ``system``, ``hours_low``, ``hours_high``,
    ``changes`` (list of strings), ``acceptance``, ``rules`` (rule names that should propose it).
    """
    actions, rules = dict(catalogue.actions), dict(catalogue.rules)
    for i, entry in enumerate(entries):
        where = f"actions[{i}]"
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            raise OptionError(f"{where}.key: every [[actions]] entry needs a key (e.g. \"speed_alert\")")
        unknown = sorted(set(entry) - set(_FIELDS) - {"key", "enabled", "rules"})
        if unknown:
            raise OptionError(f"{where}.{unknown[0]}: unknown setting; use one of "
                              f"{', '.join(['enabled', 'rules', *_FIELDS])}")
        if entry.get("enabled", True) is False:
            actions.pop(key, None)
            continue
        changes = {name: _typed(where, name, entry[name]) for name in _FIELDS if name in entry}
        if key in actions:
            action = replace(actions[key], **changes)
        else:
            missing = [n for n in ("title", "system", "hours_low", "hours_high") if n not in changes]
            if missing:
                raise OptionError(f"{where}: new action {key!r} needs {', '.join(missing)}")
            changes.setdefault("changes", ())
            changes.setdefault("acceptance", "{metric} moves from {current} to {target}")
            changes.setdefault("origin", "set in leadjourney.toml")
            action = Action(key=key, **changes)
        if not 0 < action.hours_low <= action.hours_high:
            raise OptionError(f"{where}.hours_high: expected 0 < hours_low <= hours_high, found "
                              f"{action.hours_low:g}-{action.hours_high:g}")
        actions[key] = action
        for rule in entry.get("rules", ()):
            if rule not in RULE_ACTIONS:
                raise OptionError(f"{where}.rules: no rule {rule!r}; rules: {', '.join(RULE_ACTIONS)}")
            rules[rule] = key
    return Catalogue(actions, rules)


def _typed(where: str, name: str, value: Any) -> Any:
    kind = _FIELDS[name]
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionError(f"{where}.{name}: expected a number of hours, found {value!r}")
        return float(value)
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise OptionError(f"{where}.{name}: expected a list of strings")
        return tuple(value)
    if not isinstance(value, str):
        raise OptionError(f"{where}.{name}: expected a string, found {value!r}")
    return value
