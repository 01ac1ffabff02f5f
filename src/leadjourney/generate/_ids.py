"""Row identities: every lead index (simulated, duplicate-person, orphan) and its ``L0000001`` id."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from leadjourney.generate._people import numbered


@dataclass(frozen=True)
class Ids:
    """Lead index ranges, in order: simulated, duplicate-person records, orphan owners."""

    simulated: int
    copies: int
    orphan_opportunities: int
    orphan_touch_leads: int
    lead_ids: pa.Array  # "L" + zero-padded (index + 1), for every index

    @classmethod
    def build(
        cls, simulated: int, copies: int, orphan_opportunities: int, orphan_touch_leads: int
    ) -> Ids:
        total = simulated + copies + orphan_opportunities + orphan_touch_leads
        ids = numbered("L", np.arange(1, total + 1), max(7, len(str(total))))
        return cls(simulated, copies, orphan_opportunities, orphan_touch_leads, ids)

    @property
    def orphan_opportunity_leads(self) -> np.ndarray:
        first = self.simulated + self.copies
        return np.arange(first, first + self.orphan_opportunities)

    @property
    def orphan_touch_lead_indices(self) -> np.ndarray:
        first = self.simulated + self.copies + self.orphan_opportunities
        return np.arange(first, first + self.orphan_touch_leads)
