"""The planted parameters of the simulation: personas, channels, timing and behaviour.

Everything a test may want to recover is declared here, once, and written to
``ground_truth.json`` by :func:`params_json`. Probabilities follow the seed
benchmarks: SEO-sourced MQLs convert to SQL about twice as often as paid search,
overall MQL->SQL lands around 15-25 %, referral/partner leads are few but good,
content syndication and paid social are plentiful but weak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STAGES = ("Lead", "MQL", "SQL", "Opportunity", "Customer")
STAGE_COLUMNS = ("lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at")
TRANSITIONS = ("Lead->MQL", "MQL->SQL", "SQL->Opportunity", "Opportunity->Customer")

DAY = 86_400
HOUR = 3_600
SOURCE_TIMEZONE = "America/New_York"  # the declared zone of naive timestamp strings


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    employees: tuple[int, int]
    titles: tuple[str, ...]
    industries: tuple[str, ...]
    probability_factor: tuple[float, float, float, float]  # multiplies each transition probability
    time_factor: float  # multiplies every time-in-stage median
    amount_median: float
    amount_sigma: float


@dataclass(frozen=True)
class Channel:
    name: str  # canonical name from the default config's [channels]
    share: float  # share of lead volume
    probability: tuple[float, float, float, float]  # base P(transition), before the persona factor
    details: tuple[str, ...]  # source_detail values


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "enterprise_it",
        0.25,
        (1000, 20000),
        ("CIO", "VP of IT", "Director of IT", "IT Manager", "Head of Infrastructure", "CTO"),
        ("Software", "Financial Services", "Healthcare"),
        (0.9, 1.1, 1.1, 0.8),
        1.5,
        60_000.0,
        0.5,
    ),
    Persona(
        "midmarket_ops",
        0.45,
        (100, 999),
        (
            "Operations Manager",
            "Director of Operations",
            "RevOps Manager",
            "VP Operations",
            "Business Operations Analyst",
        ),
        ("Manufacturing", "Logistics", "Retail", "Software", "Professional Services"),
        (1.0, 1.0, 1.0, 1.0),
        1.0,
        25_000.0,
        0.5,
    ),
    Persona(
        "smb_founder",
        0.30,
        (5, 99),
        ("Founder", "CEO", "Owner", "Co-Founder", "Managing Director"),
        ("Professional Services", "Retail", "Software", "Construction", "Hospitality"),
        (1.1, 0.9, 0.9, 1.2),
        0.6,
        8_000.0,
        0.5,
    ),
)

CHANNELS: tuple[Channel, ...] = (
    Channel(
        "seo",
        0.18,
        (0.45, 0.36, 0.50, 0.28),
        ("blog", "pricing page", "homepage", "comparison page"),
    ),
    Channel(
        "paid_search",
        0.16,
        (0.40, 0.18, 0.45, 0.22),
        ("brand keywords", "competitor keywords", "generic keywords"),
    ),
    Channel(
        "paid_social",
        0.14,
        (0.30, 0.09, 0.35, 0.18),
        ("linkedin lead gen form", "retargeting", "thought leadership"),
    ),
    Channel(
        "content_syndication",
        0.12,
        (0.35, 0.05, 0.30, 0.15),
        ("ebook syndication", "analyst report"),
    ),
    Channel("email", 0.08, (0.40, 0.15, 0.40, 0.22), ("newsletter", "product update", "nurture")),
    Channel("events", 0.06, (0.45, 0.20, 0.45, 0.25), ("trade show booth", "webinar", "roadshow")),
    Channel("direct", 0.06, (0.45, 0.25, 0.50, 0.27), ("homepage", "demo request")),
    Channel("organic_social", 0.05, (0.30, 0.14, 0.40, 0.20), ("linkedin post", "community")),
    Channel("referral", 0.05, (0.65, 0.40, 0.60, 0.35), ("customer referral", "review site")),
    Channel("partner", 0.04, (0.60, 0.38, 0.55, 0.32), ("partner webinar", "co-marketing")),
    Channel("chat", 0.03, (0.55, 0.25, 0.45, 0.25), ("website chat", "pricing chat")),
    Channel("ai_referral", 0.02, (0.50, 0.30, 0.50, 0.28), ("chatgpt", "perplexity")),
    Channel("other", 0.01, (0.30, 0.14, 0.40, 0.20), ("phone", "misc")),
)

MAX_PROBABILITY = 0.95
TIME_MEDIAN_DAYS = (6.0, 4.0, 10.0, 45.0)  # per transition, before the persona factor
TIME_SIGMA = (1.0, 0.9, 0.8, 0.6)
MIN_TRANSITION_SECONDS = 300

# speed-to-lead: MQL entry -> first human touchpoint
WITHIN_5_MIN_SHARE = 0.15
RESPONSE_MEDIAN_HOURS = 20.0
RESPONSE_SIGMA = 1.3
NEVER_CONTACTED_SHARE = 0.35  # of MQLs that do not reach SQL

# disqualification when the next transition fails: rate, median days after the anchor, reasons
DISQUALIFY: tuple[tuple[float, float, tuple[tuple[str, float], ...]], ...] = (
    (0.15, 7.0, (("Bad contact data", 0.4), ("Not a fit", 0.4), ("No response", 0.2))),
    (
        0.50,
        5.0,
        (("No budget", 0.3), ("Not a fit", 0.3), ("No response", 0.3), ("Bad contact data", 0.1)),
    ),
    (0.60, 10.0, (("No budget", 0.4), ("Not a fit", 0.3), ("Competitor", 0.3))),
    (
        1.00,
        35.0,
        (("Competitor", 0.5), ("No budget", 0.4), ("No response", 0.1)),
    ),  # lost opportunity
)
DISQUALIFY_SIGMA = 0.7
OPEN_OPPORTUNITY_STAGES = ("Discovery", "Proposal", "Negotiation")

# dark leads: stop engaging, sometimes re-engaged after a gap
DARK_RATE = 0.45  # of open leads whose silence would be visible (>= MIN_GAP_DAYS before end)
DARK_AFTER_MEDIAN_DAYS = (
    7.0  # last engagement after the lead's last stage entry (or first human touch)
)
DARK_AFTER_SIGMA = 0.8
MIN_GAP_DAYS = 30
RE_ENGAGE_RATE = 0.30  # of dark open leads
RE_ENGAGE_EXTRA_MEAN_DAYS = 21.0  # re-engaged at went_dark_at + MIN_GAP_DAYS + Exponential(mean)
DARK_BEFORE_ADVANCE_RATE = 0.5  # of leads whose last transition left room for a gap
ADVANCE_AFTER_RE_ENGAGE_DAYS = (0.04, 7.0)  # re-engaged this long (uniform) before the stage entry
RE_ENGAGE_KINDS = ("webinar", "email_click", "content_download", "event", "form_fill")

# touchpoints
SLOT_DAYS = 14  # an engaged lead is touched at least once per slot: gaps stay under 2 slots
EXTRA_AUTOMATED = (1.0, 3.0, 5.0, 7.0, 8.0)  # Poisson mean by furthest stage
EXTRA_HUMAN = (0.0, 1.0, 3.0, 5.0, 6.0)
AUTOMATED_KINDS = (
    ("email_send", 0.28),
    ("email_open", 0.22),
    ("email_click", 0.09),
    ("page_view", 0.24),
    ("content_download", 0.06),
    ("webinar", 0.04),
    ("chat", 0.03),
    ("event", 0.02),
    ("form_fill", 0.02),
)
HUMAN_KINDS_EARLY = (("call", 0.6), ("sales_email", 0.4))  # before SQL
HUMAN_KINDS_LATE = (("call", 0.35), ("sales_email", 0.35), ("meeting", 0.2), ("demo", 0.1))

# timestamp string formats: (label, offset seconds); "naive" is wall-clock SOURCE_TIMEZONE
OFFSETS = (
    ("-05:00", -5 * HOUR),
    ("+01:00", HOUR),
    ("+05:30", 5 * HOUR + 30 * 60),
    ("-08:00", -8 * HOUR),
    ("+09:00", 9 * HOUR),
)


def transition_probabilities() -> np.ndarray:
    """P(transition | channel, persona): shape (channels, personas, transitions)."""
    base = np.array([c.probability for c in CHANNELS])
    factor = np.array([p.probability_factor for p in PERSONAS])
    return np.minimum(base[:, None, :] * factor[None, :, :], MAX_PROBABILITY)


def _weights(pairs: tuple[tuple[str, float], ...]) -> dict[str, float]:
    return dict(pairs)


def params_json() -> dict[str, Any]:
    """Every planted parameter, JSON-ready (dirt rates and the period are added by the caller)."""
    prob = transition_probabilities()
    return {
        "stages": list(STAGES),
        "transitions": list(TRANSITIONS),
        "personas": {
            p.name: {
                "share": p.share,
                "employees": list(p.employees),
                "titles": list(p.titles),
                "industries": list(p.industries),
                "probability_factor": dict(zip(TRANSITIONS, p.probability_factor, strict=True)),
                "time_factor": p.time_factor,
                "amount_median": p.amount_median,
                "amount_sigma": p.amount_sigma,
            }
            for p in PERSONAS
        },
        "channels": {
            c.name: {
                "volume_share": c.share,
                "base_probability": dict(zip(TRANSITIONS, c.probability, strict=True)),
                "probability": {
                    p.name: {
                        t: round(float(prob[ci, pi, ti]), 6) for ti, t in enumerate(TRANSITIONS)
                    }
                    for pi, p in enumerate(PERSONAS)
                },
                "source_details": list(c.details),
            }
            for ci, c in enumerate(CHANNELS)
        },
        "max_probability": MAX_PROBABILITY,
        "time_in_stage": {
            t: {"median_days": m, "sigma": s}
            for t, m, s in zip(TRANSITIONS, TIME_MEDIAN_DAYS, TIME_SIGMA, strict=True)
        },
        "min_transition_seconds": MIN_TRANSITION_SECONDS,
        "speed_to_lead": {
            "within_5_min_share": WITHIN_5_MIN_SHARE,
            "response_median_hours": RESPONSE_MEDIAN_HOURS,
            "response_sigma": RESPONSE_SIGMA,
            "never_contacted_share_of_mqls_without_sql": NEVER_CONTACTED_SHARE,
            "note": "first human touch = MQL entry + delay; for leads reaching SQL the delay is capped at "
            "half the MQL->SQL time",
        },
        "disqualification": {
            stage: {
                "rate": rate,
                "median_days": median,
                "sigma": DISQUALIFY_SIGMA,
                "reasons": _weights(reasons),
            }
            for stage, (rate, median, reasons) in zip(STAGES[:4], DISQUALIFY, strict=True)
        },
        "open_opportunity_stages": list(OPEN_OPPORTUNITY_STAGES),
        "dark": {
            "rate": DARK_RATE,
            "after_median_days": DARK_AFTER_MEDIAN_DAYS,
            "after_sigma": DARK_AFTER_SIGMA,
            "min_gap_days": MIN_GAP_DAYS,
            "re_engage_rate": RE_ENGAGE_RATE,
            "re_engage_extra_mean_days": RE_ENGAGE_EXTRA_MEAN_DAYS,
            "dark_before_advance_rate": DARK_BEFORE_ADVANCE_RATE,
            "advance_after_re_engage_days": list(ADVANCE_AFTER_RE_ENGAGE_DAYS),
            "re_engage_kinds": list(RE_ENGAGE_KINDS),
        },
        "touchpoints": {
            "slot_days": SLOT_DAYS,
            "extra_automated_mean_by_stage": dict(zip(STAGES, EXTRA_AUTOMATED, strict=True)),
            "extra_human_mean_by_stage": dict(zip(STAGES, EXTRA_HUMAN, strict=True)),
            "automated_kinds": _weights(AUTOMATED_KINDS),
            "human_kinds_before_sql": _weights(HUMAN_KINDS_EARLY),
            "human_kinds_from_sql": _weights(HUMAN_KINDS_LATE),
        },
        "timestamps": {
            "source_timezone": SOURCE_TIMEZONE,
            "offsets": [label for label, _ in OFFSETS],
        },
    }
