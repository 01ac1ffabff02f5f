"""Raw spellings of stages, channels and job titles, derived from the default configuration.

The generator writes what CRM exports contain (``"Marketing Qualified Lead"``,
``"google / cpc"``), and every spelling is checked here against the config the
ingest side uses, so a planted "unknown" spelling is unknown and nothing else is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from leadjourney.config import Config, default_config_text, normalize_key, parse_config
from leadjourney.generate._params import CHANNELS, PERSONAS, STAGES

UNKNOWN_STAGES = ("Recycled", "Nurture", "Re-engaged", "On Hold")
UNKNOWN_CHANNELS = ("Orgnic Serch", "tiktok", "Linkdin Ads", "podcast", "G2 Crowd", "bing")
UNQUALIFIED_TITLES = (
    "Student",
    "Intern",
    "Marketing Intern",
    "PhD Candidate",
    "Undergrad",
    "Job Seeker",
    "Looking for work",
    "Unemployed",
    "Vendor",
    "Reseller",
    "Supplier",
    "Agency Partner",
)


@dataclass(frozen=True)
class Spellings:
    stages: tuple[tuple[str, ...], ...]  # per stage; the canonical name first
    channels: tuple[tuple[str, ...], ...]  # per channel of CHANNELS
    unknown_stages: tuple[str, ...]
    unknown_channels: tuple[str, ...]
    unqualified: tuple[tuple[str, str], ...]  # (job title, exclusion rule name)


def _variants(text: str) -> list[str]:
    return [text, text.title(), text.upper().replace(" ", "_"), text.replace(" ", "").lower()]


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _require(ok: bool, problem: str) -> None:
    if not ok:
        raise RuntimeError(f"generator vocabulary out of step with the default config: {problem}")


def _rule(config: Config, field: str, value: str) -> str | None:
    for rule in config.exclusions:
        if rule.field == field and re.search(rule.pattern, value, re.IGNORECASE):
            return rule.name
    return None


@cache
def spellings() -> Spellings:
    """Spellings for the default configuration, each verified against its alias tables."""
    config = parse_config(default_config_text())
    stage_map = config.stage_aliases()
    _require(list(STAGES) == config.stage_names, f"stages {config.stage_names}")
    stages = []
    for stage in config.stages:
        found = _unique([v for s in (stage.name, *stage.aliases) for v in _variants(s)])
        _require(all(stage_map.get(normalize_key(s)) == stage.name for s in found), stage.name)
        stages.append(found)

    channel_map = config.channel_aliases()
    channels = []
    for channel in CHANNELS:
        _require(channel.name in config.channels, f"channel {channel.name!r} missing")
        raw = [channel.name]
        for alias in config.channels[channel.name]:
            raw += [alias, alias.title()] + ([alias.upper()] if len(alias) <= 4 else [])
        found = _unique(raw)
        _require(
            all(channel_map.get(normalize_key(s)) == channel.name for s in found), channel.name
        )
        channels.append(found)

    _require(not any(normalize_key(s) in stage_map for s in UNKNOWN_STAGES), "unknown stages")
    _require(not any(normalize_key(s) in channel_map for s in UNKNOWN_CHANNELS), "unknown channels")
    for persona in PERSONAS:
        clean = [("job_title", t) for t in persona.titles] + [
            ("industry", i) for i in persona.industries
        ]
        _require(not any(_rule(config, f, v) for f, v in clean), persona.name)
    _require(
        not any(_rule(config, "source_detail", d) for c in CHANNELS for d in c.details), "details"
    )
    unqualified = tuple((t, r) for t in UNQUALIFIED_TITLES if (r := _rule(config, "job_title", t)))
    _require(bool(unqualified), "no unqualified job title matches an exclusion rule")
    return Spellings(tuple(stages), tuple(channels), UNKNOWN_STAGES, UNKNOWN_CHANNELS, unqualified)
