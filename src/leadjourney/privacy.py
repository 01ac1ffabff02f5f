"""Pseudonyms for personal data shown outside the workspace (owners, i.e. sales reps' names).

One definition, computed in the engine: the event log's ``org:resource`` and the dashboard's
owner filter both use :func:`owner_pseudonym`, so a rep has the same pseudonym everywhere in a
workspace. The digest is salted with the workspace's random secret (the one that also salts
e-mail hashes), so a list of the team's names cannot be hashed to undo the pseudonyms; the same
name has another pseudonym in another workspace.

>>> owner_pseudonym(leads.owner, pseudonym_salt(backend))   # doctest: +SKIP
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadjourney.engine import fetch_value
from leadjourney.workspace import SALT_KEY

OWNER_PREFIX = "owner-"


def pseudonym_salt(backend: ibis.BaseBackend) -> str:
    """The workspace's secret salt (empty for a workspace made before it had one)."""
    meta = backend.table("meta")
    return str(fetch_value(meta.filter(meta.key == SALT_KEY).value.max()) or "")


def owner_pseudonym(owner: ir.StringValue, salt: str) -> ir.StringValue:
    """``owner-`` and the first 8 hex digits of SHA-256 over ``salt`` and the owner (NULL stays NULL)."""
    return ibis.literal(OWNER_PREFIX) + (ibis.literal(salt) + owner).hexdigest("sha256").substr(0, 8)
