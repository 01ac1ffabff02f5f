"""Connectors: pull CRM, marketing-automation and web-analytics data over their APIs.

``leadjourney pull WORKSPACE SYSTEM`` fetches each object of a system incrementally (a
high-water mark per object, stored beside the raw pages), keeps the raw pages as Parquet
under ``pulls/SYSTEM/`` (auditable, re-ingestable), maps them into canonical tables
(``pulls/SYSTEM/<table>.parquet``) and registers those as ``[[sources]]``, so they load
through the same typing, quarantine and identity pass as exported files.

Modules: :mod:`.base` (what a connector declares), :mod:`.settings` (``[connectors.*]``),
:mod:`.http` (retries honouring Retry-After, secrets from the environment), :mod:`.raw`
(the raw page store), :mod:`.pull` (the workflow), and one module per system.
"""

from __future__ import annotations

SYSTEMS = ("salesforce", "hubspot", "ga4", "marketo")
