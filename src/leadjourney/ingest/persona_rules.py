"""Which configured persona each lead belongs to, as one engine expression.

The rules come from ``[[personas]]`` in leadjourney.toml; the first persona whose
rules a lead matches wins, and a lead matching none is ``unassigned``. A rule on a
field the lead lacks (no title, unknown size) does not match. ``min_employees`` and
``max_employees`` together are one rule (a size range), also under ``match = "any"``.
"""

from __future__ import annotations

import functools
import operator

import ibis
import ibis.expr.types as ir

from leadjourney.casefold import case_insensitive, lower_text
from leadjourney.config import UNASSIGNED_PERSONA, Persona


def persona_column(leads: ir.Table, personas: tuple[Persona, ...]) -> ir.StringValue:
    """The persona name of each row of ``leads`` (a table with the leads columns)."""
    branches = [(_matches(leads, p), ibis.literal(p.name)) for p in personas]
    if not branches:
        return ibis.literal(UNASSIGNED_PERSONA)
    return ibis.cases(*branches, else_=ibis.literal(UNASSIGNED_PERSONA))


def _matches(leads: ir.Table, persona: Persona) -> ir.BooleanValue:
    rules: list[ir.BooleanValue] = []
    if persona.job_title:
        rules.append(leads.job_title.re_search(case_insensitive(persona.job_title)))  # RE2's (?i) on every engine
    if persona.industries:
        rules.append(leads.industry.lower().isin([lower_text(i) for i in persona.industries]))
    size: list[ir.BooleanValue] = []  # one rule: the size range, whichever bounds are given
    if persona.min_employees is not None:
        size.append(leads.employee_count >= persona.min_employees)
    if persona.max_employees is not None:
        size.append(leads.employee_count <= persona.max_employees)
    if size:
        rules.append(functools.reduce(operator.and_, size))
    combine = operator.and_ if persona.match == "all" else operator.or_
    return functools.reduce(combine, [r.fill_null(False) for r in rules])
