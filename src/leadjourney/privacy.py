"""Pseudonyms for personal data shown outside the workspace (owners, i.e. sales reps' names).

One definition, computed in the engine: the event log's ``org:resource`` and the dashboard's
owner filter both use :func:`owner_pseudonym`, so a rep has the same pseudonym everywhere.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

OWNER_PREFIX = "owner-"


def owner_pseudonym(owner: ir.StringValue) -> ir.StringValue:
    """``owner-`` and the first 8 hex digits of the owner's MD5 (NULL stays NULL)."""
    return ibis.literal(OWNER_PREFIX) + owner.hexdigest("md5").substr(0, 8)
