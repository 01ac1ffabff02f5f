"""Realistic synthetic inbound-lead exports with planted ground truth.

:func:`generate` simulates lead journeys (Lead -> MQL -> SQL -> Opportunity ->
Customer) in continuous time, censored at the end of the period, writes them the
way CRM exports look (raw stage and channel spellings, mixed time-zone formats),
plants the data-quality problems a :class:`Dirt` asks for, and records in
``ground_truth.json`` and ``ground_truth_leads.parquet`` exactly what it planted.
A :class:`Scenario` plants business changes for the monitor to find: a
:class:`Decline` in a transition's conversion (all leads or one channel's) and
:class:`Drift` from the SQL definition.

>>> from leadjourney.generate import Dirt
>>> Dirt.none().missing_timestamps
0.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadjourney.generate._dirt import Dirt
    from leadjourney.generate._generate import GeneratedData, generate
    from leadjourney.generate._scenario import Decline, Drift, Scenario

_HOME = {"Dirt": "_dirt", "GeneratedData": "_generate", "generate": "_generate", "Decline": "_scenario",
         "Drift": "_scenario", "Scenario": "_scenario"}  # loaded on first use: numpy and pyarrow are slow to import


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value

__all__ = ["Decline", "Dirt", "Drift", "GeneratedData", "Scenario", "generate"]
