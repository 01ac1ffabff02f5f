"""``Dirt``: how much of each data-quality problem to plant in the raw exports."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Dirt:
    """Rates of planted problems, as shares of the simulated leads (``Dirt.none()``: clean data)."""

    exact_duplicate_rows: float = (
        0.005  # verbatim copies of lead rows (and as many stage_events rows)
    )
    duplicate_people: float = (
        0.02  # same person re-created: new lead_id, later created_at, e-mail case/space
    )
    missing_timestamps: float = 0.03  # stage events (after Lead) whose entered_at is blank
    skipped_stages: float = 0.02  # SQL-or-later leads whose MQL event row is deleted
    out_of_order: float = 0.005  # MQL entered_at moved 1-30 days before the lead's created_at
    regressions: float = 0.01  # an MQL event added after the lead's SQL event (recycled lead)
    missing_source: float = 0.01  # blank source
    unknown_stages: float = 0.003  # an extra event with a stage spelling matching no alias
    unknown_channels: float = 0.005  # source spellings matching no channel alias
    future_dates: float = 0.001  # created_at typo'd 36 years ahead (2026 -> 2062)
    orphan_opportunities: float = 0.002  # opportunities whose lead_id is not in leads
    orphan_touchpoints: float = 0.001  # lead_ids (not in leads) given a few touchpoints each
    unqualified_contacts: float = 0.01  # job titles matching the default [[exclusions]]
    mixed_timezones: bool = True  # timestamp strings in mixed zone formats; off: all UTC "Z"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "mixed_timezones" and not 0.0 <= value <= 1.0:
                raise ValueError(f"Dirt.{f.name} must be a share between 0 and 1, found {value!r}")

    @classmethod
    def none(cls) -> Dirt:
        """No planted problems at all, and every timestamp in UTC."""
        rates = {f.name: 0.0 for f in dataclasses.fields(cls) if f.name != "mixed_timezones"}
        return cls(**rates, mixed_timezones=False)

    def rates(self) -> dict[str, float | bool]:
        """The settings as a plain dict (for ``ground_truth.json``)."""
        return dataclasses.asdict(self)
