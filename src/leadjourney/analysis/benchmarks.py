"""Industry benchmarks, as data, so every output can print the benchmark beside its number.

The defaults are the seed's "Key Industry Benchmarks for Journey Mapping" and the
"Friction Analysis" benchmark, each with the seed's own citation text. They are published
figures, not facts about the client: reports should show them as context, never as targets
the data is judged by without stakeholder confirmation.

>>> [b.key for b in benchmark_for("conversion_rate", "MQL->SQL", "seo")]
['mql_sql_average', 'mql_sql_top_performers', 'mql_sql_seo']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from leadjourney.analysis.readback import build
from leadjourney.config import BenchmarkSetting, Config, normalize_key
from leadjourney.errors import OptionError

REFERENCES: dict[int, str] = {
    1: "[1] 2025 B2B SaaS Funnel Benchmarks & Pipeline Audit Framework - The Digital Bloom",
    2: "[2] MQL to SQL Conversion Rate Benchmarks - Understory Agency",
    3: "[3] What Is Lead Response Time and How It Wins You More Deals - Chili Piper",
    4: "[4] We Tested 114 B2B Companies' Lead Response Times - Workato",
    5: "[5] 9 Lead Response Time Statistics - Rep.ai",
    6: "[6] The Impact of Speed to Lead: Response Time Statistics - Kixie",
    7: "[7] 2025 Benchmark Report: B2B Software Inbound Conversion Rates - Default",
    8: "[8] (cited by the seed; the seed's reference list ends before [8])",
}


@dataclass(frozen=True)
class Benchmark:
    """One published figure: a value or a range [low, high], and the number it applies to.

    ``transition`` / ``source`` are None when the benchmark applies to any transition / the
    whole selection; rates and shares are fractions (0.15, not 15).
    """

    key: str
    metric: str
    label: str
    low: float
    high: float
    unit: str  # "rate", "share", "hours", "minutes", "times", "people", "pieces"
    reference: int  # into REFERENCES; 0 for a benchmark from the config, cited by ``cited``
    quote: str  # the seed's wording
    tier: str = "average"  # "average", "top_performers", "optimal", "by_source", ...
    transition: str | None = None  # "MQL->SQL"
    source: str | None = None  # a configured channel name, e.g. "seo"
    note: str | None = None
    cited: str | None = None  # the citation of a benchmark set in leadjourney.toml

    @property
    def value(self) -> float:
        """The midpoint of the range (the value itself for a single figure)."""
        return (self.low + self.high) / 2

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def citation(self) -> str:
        if self.cited is not None:
            return self.cited
        return REFERENCES.get(self.reference, "set in leadjourney.toml")

    def text(self) -> str:
        """A short rendering for a report cell, e.g. ``15-21% (average) [1]``."""
        mark = self.reference if self.reference else "config"
        return f"{_fmt(self.low, self.high, self.unit)} ({self.tier.replace('_', ' ')}) [{mark}]"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["value"] = self.value
        out["citation"] = self.citation
        out["text"] = self.text()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Benchmark:
        """The inverse of :meth:`to_dict` (value, citation and text are derived)."""
        return build(cls, d)


def _fmt(low: float, high: float, unit: str) -> str:
    if unit in ("rate", "share"):
        a, b = f"{low * 100:g}", f"{high * 100:g}"
        return f"{a}%" if low == high else f"{a}-{b}%"
    suffix = {"times": "x", "hours": " hours", "minutes": " minutes"}.get(unit, f" {unit}")
    return f"{low:g}{suffix}" if low == high else f"{low:g}-{high:g}{suffix}"


MQL_SQL = "MQL->SQL"

DEFAULT_BENCHMARKS: tuple[Benchmark, ...] = (
    # conversion (Friction Analysis; Key Industry Benchmarks: Conversion Benchmarks)
    Benchmark("mql_sql_average", "conversion_rate", "Average B2B SaaS MQL->SQL conversion rate",
              0.15, 0.21, "rate", 1, "Average B2B SaaS MQL→SQL conversion rate: 15-21%",
              transition=MQL_SQL),
    Benchmark("mql_sql_top_performers", "conversion_rate",
              "Top-performing companies (with behavioral scoring) MQL->SQL conversion rate",
              0.39, 0.40, "rate", 2, "Top-performing companies (with behavioral scoring): 39-40%",
              tier="top_performers", transition=MQL_SQL,
              note="the seed's validation checklist also says 'top performers achieve 30-40%' [1][2]"),
    Benchmark("mql_sql_seo", "conversion_rate", "SEO-sourced leads MQL->SQL conversion rate",
              0.51, 0.51, "rate", 1, "SEO-sourced leads convert at 51% MQL→SQL vs PPC at 26%",
              tier="by_source", transition=MQL_SQL, source="seo"),
    Benchmark("mql_sql_paid_search", "conversion_rate", "PPC (paid search) leads MQL->SQL conversion rate",
              0.26, 0.26, "rate", 1, "SEO-sourced leads convert at 51% MQL→SQL vs PPC at 26%",
              tier="by_source", transition=MQL_SQL, source="paid_search"),
    Benchmark("website_leads", "conversion_rate", "Website-generated leads conversion rate",
              0.313, 0.313, "rate", 7,
              "Website-generated leads convert at 31.3% — more than 2x the overall average",
              tier="by_source", transition=MQL_SQL, source="website",
              note="the seed names neither the transition nor which channels are 'website'; compared with "
                   "the 15-21% MQL->SQL average, so shown beside MQL->SQL for a source named 'website'"),
    Benchmark("mql_sql_drop_off", "drop_off_rate", "MQLs that fail to become SQLs (average)",
              0.79, 0.85, "rate", 1, "meaning 79-85% of MQLs fail to become SQLs", transition=MQL_SQL),
    # speed-to-lead
    Benchmark("response_time_average", "response_time", "Average B2B response time to new inbound leads",
              42.0, 42.0, "hours", 3, "Average B2B response time to new inbound leads: 42 hours"),
    Benchmark("response_time_optimal", "response_time", "Optimal time from MQL trigger to first Sales outreach",
              5.0, 5.0, "minutes", 3, "benchmark: 5 minutes is optimal", tier="optimal",
              note="the seed flags an average above 2 hours"),
    Benchmark("contacted_share", "contacted_share", "Share of leads ever contacted",
              0.27, 0.27, "share", 4, "Only 27% of leads ever get contacted"),
    Benchmark("qualify_lift_5_min", "response_lift", "Responding within 5 minutes vs 30+ minutes: likelihood to qualify",
              21.0, 21.0, "times", 5, "Responding within 5 minutes = 21x more likely to qualify vs waiting 30+ minutes",
              tier="effect"),
    Benchmark("first_responder_wins", "first_responder_share", "Customers who buy from the business that responds first",
              0.78, 0.78, "share", 3, "78% of customers buy from the business that responds first", tier="effect"),
    Benchmark("conversion_lift_1_min", "response_lift", "Responding within 1 minute: increase in conversions",
              3.91, 3.91, "rate", 6, "Responding within 1 minute = 391% increase in conversions", tier="effect",
              note="an increase: 3.91 means +391%"),
    # multi-stakeholder complexity
    Benchmark("buying_group_size", "buying_group_size", "Typical B2B buying group (decision-makers)",
              6.0, 10.0, "people", 8, "Typical B2B buying group: 6-10 decision-makers"),
    Benchmark("information_pieces", "information_pieces",
              "Independent pieces of information each stakeholder gathers before engaging Sales",
              4.0, 5.0, "pieces", 8, "Each stakeholder gathers 4-5 independent pieces of information before engaging Sales"),
)


def benchmarks_in_effect(config: Config) -> tuple[Benchmark, ...]:
    """The built-in benchmarks with the config's ``[[benchmarks]]`` applied (replaced, hidden or added)."""
    out = {b.key: b for b in DEFAULT_BENCHMARKS}
    for setting in config.benchmarks:
        if not setting.enabled:
            out.pop(setting.key, None)
            continue
        changes = {f.name: getattr(setting, f.name) for f in fields(BenchmarkSetting)
                   if f.name not in ("key", "enabled", "citation") and getattr(setting, f.name) is not None}
        if setting.key in out:
            out[setting.key] = replace(out[setting.key], reference=0 if setting.citation else out[setting.key].reference,
                                       cited=setting.citation, **changes)
            continue
        missing = [name for name in ("metric", "low", "label") if name not in changes]
        if missing:
            raise OptionError(f"benchmarks: new benchmark {setting.key!r} needs {', '.join(missing)}")
        changes.setdefault("high", changes["low"])
        changes.setdefault("unit", "rate")
        out[setting.key] = Benchmark(key=setting.key, reference=0, quote=changes["label"],
                                     cited=setting.citation or "set in leadjourney.toml", **changes)
    return tuple(out.values())


def normalize_transition(transition: str) -> str:
    """``"MQL → SQL"``, ``"mql->sql"`` and ``("MQL", "SQL")`` spelled alike: ``"mql->sql"``."""
    parts = re.split(r"\s*(?:->|→|>|\u2014|\u2013)\s*", transition.strip())
    return "->".join(normalize_key(p) for p in parts)


def benchmark_for(metric: str, transition: str | None = None, source: str | None = None,
                  benchmarks: tuple[Benchmark, ...] = DEFAULT_BENCHMARKS) -> list[Benchmark]:
    """The benchmarks to print beside one number.

    A benchmark applies when its metric matches and, for transition and source alike, it is
    either general (None) or names the same one as the number. So a whole-funnel MQL->SQL
    rate gets the average and top-performer ranges; the seo row also gets seo's 51%.
    Names match ignoring case, spaces and punctuation (``"Paid Search"`` is ``paid_search``).

    >>> [b.text() for b in benchmark_for("conversion_rate", "MQL → SQL")]
    ['15-21% (average) [1]', '39-40% (top performers) [2]']
    >>> [b.text() for b in benchmark_for("response_time")]
    ['42 hours (average) [3]', '5 minutes (optimal) [3]']
    """
    want_t = normalize_transition(transition) if transition else None
    want_s = normalize_key(source) if source else None
    out = []
    for b in benchmarks:
        if normalize_key(b.metric) != normalize_key(metric):
            continue
        if b.transition is not None and normalize_transition(b.transition) != want_t:
            continue
        if b.source is not None and normalize_key(b.source) != want_s:
            continue
        out.append(b)
    return out
