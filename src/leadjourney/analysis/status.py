"""Whether a number can be judged, and if not why: one vocabulary for every renderer.

Every figure an analysis returns carries a :class:`MetricStatus`. Renderers never decide
this themselves; they print :meth:`MetricStatus.text` (the same words in the terminal,
JSON, the map, the dashboard, the documents and the monitor) and only flag, test or build
a finding on a number whose status is :attr:`Status.OK`.

* ``ok``: shown and judged.
* ``too_few``: shown, marked "too few to judge", never flagged (fewer people than ``min_n``).
* ``young``: shown, marked; the cohort is too young for its rate to be final.
* ``withheld``: not shown at all; the reason says which input is missing.

>>> too_few(19, 30).text()
'too few to judge: 19 people, fewer than min_n = 30'
>>> withheld("needs touchpoints; none loaded").text()
'withheld: needs touchpoints; none loaded'
>>> OK.judged, OK.text()
(True, '')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    TOO_FEW = "too_few"
    YOUNG = "young"
    WITHHELD = "withheld"


_PREFIX = {
    Status.OK: "",
    Status.TOO_FEW: "too few to judge",
    Status.YOUNG: "too young to judge",
    Status.WITHHELD: "withheld",
}


@dataclass(frozen=True)
class MetricStatus:
    """A figure's status and, unless it is ``ok``, a one-line reason."""

    status: Status = Status.OK
    reason: str | None = None

    @property
    def judged(self) -> bool:
        """The number may be flagged, significance-tested, ranked and turned into findings."""
        return self.status is Status.OK

    @property
    def shown(self) -> bool:
        """The number exists (``withheld`` figures have none)."""
        return self.status is not Status.WITHHELD

    def text(self) -> str:
        """What every human-facing renderer prints beside (or instead of) the number."""
        if self.status is Status.OK:
            return ""
        return f"{_PREFIX[self.status]}: {self.reason}" if self.reason else _PREFIX[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason}

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> MetricStatus:
        """The status a result's JSON carries (``status``, ``status_reason``); ok when it has none."""
        return cls(Status(item.get("status") or "ok"), item.get("status_reason"))


OK = MetricStatus()


def too_few(n: int, min_n: int, what: str = "people") -> MetricStatus:
    """Fewer than ``min_n`` (``[analysis] min_n``) people behind a rate: shown, never judged."""
    if n == 1 and what == "people":
        what = "person"
    return MetricStatus(Status.TOO_FEW, f"{n:,} {what}, fewer than min_n = {min_n}")


def withheld(reason: str) -> MetricStatus:
    """An input the metric needs is missing: no number, the reason instead."""
    return MetricStatus(Status.WITHHELD, reason)


def young(reason: str) -> MetricStatus:
    """A cohort too young for its rate to be final."""
    return MetricStatus(Status.YOUNG, reason)


def for_count(n: int, min_n: int, what: str = "people") -> MetricStatus:
    """``ok`` at ``min_n`` or more, else ``too_few``; ``withheld`` when there is nobody at all."""
    if n <= 0:
        return withheld(f"no {what}")
    return OK if n >= min_n else too_few(n, min_n, what)
