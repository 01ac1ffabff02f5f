"""Lead stage definitions: the Definition Alignment Document (drift in the data, sign-offs) written into out/,
and a stakeholder's approval of a term's wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.tables import TableRun
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters
    from leadjourney.analysis.definitions import SignOff
    from leadjourney.reports.definitions import DefinitionDocument


@dataclass(frozen=True)
class Approval:
    """A recorded sign-off and the required roles still missing for the term's current wording."""

    signoff: SignOff
    missing: list[str]


def definitions(workspace: WorkspaceLike, filters: Filters | None = None, *,
                progress: Progress = silent) -> TableRun[DefinitionDocument]:
    """The Definition Alignment Document of the selection (the whole workspace may hold no data yet: the
    terms are signed at kickoff), written into out/ (definitions.md and .json)."""
    from leadjourney.reports.definitions import definitions_document, write_document

    ws = open_workspace(workspace)
    progress("drift check", 0, 1)
    document = definitions_document(ws, filters)
    progress("done", 1, 1)
    return TableRun(document, write_document(document, ws.out_dir))


def approve_definition(workspace: WorkspaceLike, term: str, by: str, role: str,
                       note: str | None = None) -> Approval:
    """Record that ``by``, speaking for ``role``, approves the current wording of ``term`` (an unknown term
    or role is an :class:`~leadjourney.errors.OptionError` naming the valid ones)."""
    from leadjourney.analysis.definitions import approve
    from leadjourney.reports.definitions import missing_roles

    ws = open_workspace(workspace)
    signoff = approve(ws, term, by, role, note)
    return Approval(signoff, missing_roles(ws, signoff.term))
