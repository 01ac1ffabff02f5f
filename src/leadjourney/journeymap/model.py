"""What the journey map shows: plain, frozen records built from one analysis (see ``build``).

Every number here is copied from the :class:`~leadjourney.analysis.report.Analysis`
it was built from, never recomputed, so a map can be checked against ``analyze --json``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from leadjourney.analysis.status import OK, MetricStatus
from leadjourney.display import display_name, segment_name
from leadjourney.errors import MapError  # noqa: F401  (re-exported: its old home)


class TouchpointLike(Protocol):
    """One row of the touchpoint inventory: a kind x channel in a stage (and its lane)."""

    @property
    def stage(self) -> str: ...
    @property
    def lane(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def automated(self) -> bool: ...
    @property
    def volume(self) -> int: ...
    @property
    def unique_leads(self) -> int: ...


@dataclass(frozen=True)
class Mark:
    """A finding's validation status on the number it states."""

    finding_id: str
    status: str  # ASSUMED, CONFIRMED or CORRECTED
    note: str | None = None
    stated: float | None = None  # the value when the finding was last stated
    current: float | None = None  # the value on this map

    @property
    def stale(self) -> bool:
        """The number changed since the finding was stated (a confirmation may no longer hold)."""
        if self.stated is None or self.current is None:
            return False
        return not math.isclose(self.stated, self.current, rel_tol=1e-6, abs_tol=1e-9)


@dataclass(frozen=True)
class StageNode:
    name: str
    lane: str
    reached: int
    imputed: int


@dataclass(frozen=True)
class ConversionPoint:
    """A transition between consecutive stages: rate with its 95% interval, median time, friction."""

    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    median_days: float | None  # Kaplan-Meier median where reached, else the naive median
    median_is_km: bool
    time_caveat: str | None
    friction_rank: int | None  # of the whole-transition row in the friction ranking
    revenue_impact: float | None  # recoverable revenue of the whole-transition row (per JourneyMap.money_per)
    hypothesis: str | None
    target: float | None = None  # ideal-state rate, when given
    mark: Mark | None = None  # the conversion finding
    time_mark: Mark | None = None  # the time-in-stage finding
    status: MetricStatus = OK  # too few to judge: drawn muted with the reason, never red
    target_source: str = ""  # what the recoverable revenue is measured against (the friction row's)

    @property
    def key(self) -> str:
        return f"{self.from_stage}->{self.to_stage}"

    @property
    def gap(self) -> float | None:
        """Rate minus target (negative: below the ideal state)."""
        return None if self.target is None or self.rate is None else self.rate - self.target


@dataclass(frozen=True)
class DropOffPoint:
    """A drop-off from the friction analysis, with its annual revenue impact."""

    from_stage: str
    to_stage: str
    segment: str | None  # None: the whole transition, else e.g. "source=paid_social"
    rate: float
    ci_high: float
    compared_with: float
    reason: str
    revenue_impact: float | None  # recoverable revenue of the friction row (per JourneyMap.money_per)
    friction_rank: int | None
    hypothesis: str | None
    mark: Mark | None = None
    revenue_status: MetricStatus = OK  # why revenue_impact is None: the friction row's reason

    @property
    def key(self) -> str:
        return f"{self.from_stage}->{self.to_stage}"

    @property
    def label(self) -> str:
        """``paid_social`` for ``source=paid_social``, ``persona enterprise_it`` for other segments."""
        if not self.segment:
            return "all leads"
        kind, _, value = self.segment.partition("=")
        return value if kind == "source" else f"{kind} {value}" if value else self.segment

    @property
    def compared_with_label(self) -> str:
        """What the rate is compared with: the benchmark, or the rest of the segment's kind."""
        if not self.segment:
            return "benchmark"
        kind = self.segment.partition("=")[0]
        return f"other {kind}s" if kind else "the rest"


@dataclass(frozen=True)
class TouchpointCard:
    stage: str
    lane: str
    kind: str
    channel: str | None
    automated: bool
    volume: int
    unique_leads: int
    lift: float | None = None  # conversion lift, when the inventory row carries it
    lift_ci_low: float | None = None
    lift_ci_high: float | None = None

    @property
    def label(self) -> str:
        return self.kind if not self.channel else f"{self.kind} · {self.channel}"


@dataclass(frozen=True)
class MarketingPoint:
    """A web or campaign touchpoint on the map (a landing page, an e-mail campaign, a content asset, a nurture)
    with its one metric, copied from the analysis: a share (or, ``lift``, a ratio) over ``n`` with its 95%
    interval, or withheld with the status's reason. ``flag``: what the analysis found significant about it."""

    stage: str  # the stage whose column it sits in
    lane: str
    kind: str  # "landing page", "e-mail campaign", "content", "nurture"
    name: str
    metric: str  # what the value is: "visit to form fill", "click rate", "lift before MQL", "leave at step 2"
    value: float | None
    n: int
    n_of: str  # what n counts: "visits", "people"
    ci_low: float | None = None
    ci_high: float | None = None
    lift: bool = False
    flag: str | None = None
    status: MetricStatus = OK
    why: str = ""  # why it is what its kind says (a nurture: why the campaign is followed as a sequence)

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "-"
        return f"{self.value:.2f}x" if self.lift else f"{self.value:.1%}"

    @property
    def ci_text(self) -> str:
        if self.ci_low is None or self.ci_high is None:
            return "-"
        if self.lift:
            return f"{self.ci_low:.2f}x-{self.ci_high:.2f}x"
        return f"{self.ci_low:.1%}-{self.ci_high:.1%}"

    @property
    def detail(self) -> str:
        """The line under the figure: its interval and n, or why it is withheld."""
        if self.status.text():
            return self.status.text()
        return f"95% CI {self.ci_text} · n {self.n:,} {self.n_of}"


@dataclass(frozen=True)
class Lane:
    """A column of the map: its stages and the touchpoints that happened while leads were in them."""

    name: str
    stages: tuple[str, ...]
    touchpoints: tuple[TouchpointCard, ...]  # by volume, largest first


@dataclass(frozen=True)
class PersonaPoint:
    from_stage: str
    to_stage: str
    entered: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    median_days: float | None
    median_is_km: bool
    differs: str | None  # "higher" / "lower" when the 95% interval excludes the overall rate

    @property
    def key(self) -> str:
        return f"{self.from_stage}->{self.to_stage}"


@dataclass(frozen=True)
class PersonaLane:
    name: str
    n_people: int
    points: tuple[PersonaPoint, ...]

    @property
    def differs(self) -> bool:
        return any(p.differs for p in self.points)


@dataclass(frozen=True)
class DarkPath:
    """Open people who went silent, the furthest stage they reached, and who came back."""

    dark_after_days: int | None
    n_open: int
    n_dark: int
    share: float | None
    median_days_silent: float | None
    by_stage: dict[str, int]
    n_re_engaged: int
    re_engaged_by: dict[str, int]
    then_advanced: int
    mark: Mark | None = None
    status: MetricStatus = OK  # withheld (no touchpoints): the reason instead of numbers
    re_engaged_by_stage: dict[str, int] = field(default_factory=dict)  # furthest stage entered when they came back


@dataclass(frozen=True)
class JourneyMap:
    """The current-state journey map of one selection of leads, ready to lay out and render."""

    title: str
    period: str
    as_of: str | None
    n_people: int
    currency: str
    funnel_mode: str
    lanes: tuple[Lane, ...]
    stages: tuple[StageNode, ...]
    conversions: tuple[ConversionPoint, ...]
    drop_offs: tuple[DropOffPoint, ...]
    dark: DarkPath
    personas: tuple[PersonaLane, ...] = ()  # empty unless journeys differ (see build.PERSONA_RULE)
    persona_note: str | None = None
    caveats: tuple[str, ...] = ()
    has_findings: bool = False
    has_targets: bool = False
    computed_at: str = ""
    money_per: str = "yr"  # what every money figure is per: "yr" when annualized, else the period ("45 d")
    labels: dict[str, str] = field(default_factory=dict)  # [labels]: display names (see leadjourney.display)
    unconfirmed: int = 0  # findings of this selection not yet confirmed by stakeholders (ASSUMED)
    marketing: tuple[MarketingPoint, ...] = ()  # web and campaign touchpoints (empty without such data)

    def name(self, value: str | None) -> str:
        """A stage, channel, touchpoint kind or persona as people read it (``[labels]`` first)."""
        return display_name(value, self.labels)

    def segment_name(self, segment: str | None) -> str:
        """A drop-off's segment as people read it: "Enterprise IT (persona)", "All leads"."""
        return segment_name(segment, self.labels)

    def transition(self, from_stage: str, to_stage: str) -> str:
        """``MQL → SQL`` in display names."""
        return f"{self.name(from_stage)} → {self.name(to_stage)}"

    def empty_lane_note(self, lane: str) -> str:
        """What would fill a lane without a stage, for the analyst: "No data: add stages after Customer (e.g.
        ...) with lane ... in [[stages]] ..."."""
        return f"No data: add stages {self._empty_lane_where(lane)} with lane \"{lane}\" in [[stages]], and their " \
               "touchpoints".replace("  ", " ")

    def empty_lane_plain(self, lane: str) -> str:
        """The same for the map's reader, in words (the configuration hint stays in the card's tooltip)."""
        return f"No data yet: stages {self._empty_lane_where(lane)} and their touchpoints would show here".replace(
            "  ", " ")

    def _empty_lane_where(self, lane: str) -> str:
        order = [x.name for x in self.lanes]
        at = order.index(lane)
        before = [s.name for s in self.stages if s.lane in order[:at]]
        after = [s.name for s in self.stages if s.lane in order[at + 1:]]
        return (f"between {self.name(before[-1])} and {self.name(after[0])}" if before and after
                else f"after {self.name(before[-1])} (e.g. Onboarding, Evangelist)" if before
                else f"before {self.name(after[0])}" if after else "")

    def touchpoint_name(self, t: TouchpointCard) -> str:
        """``Email click · Email``: kind and channel in display names."""
        return self.name(t.kind) if not t.channel else f"{self.name(t.kind)} · {self.name(t.channel)}"

    def conversion(self, key: str) -> ConversionPoint:
        return next(c for c in self.conversions if c.key == key)

    def lane_of(self, stage: str) -> str | None:
        return next((s.lane for s in self.stages if s.name == stage), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for conv, data in zip(self.conversions, out["conversions"], strict=True):
            data["key"], data["gap"] = conv.key, conv.gap
        return out
