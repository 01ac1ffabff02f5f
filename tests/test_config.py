"""The config template is valid, documents every option, and bad values name their key."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from leadjourney.config import Config, Source, default_config_text, parse_config
from leadjourney.errors import ConfigError


def test_template_parses_to_the_documented_defaults() -> None:
    cfg = parse_config(default_config_text())
    assert cfg.stage_names == ["Lead", "MQL", "SQL", "Opportunity", "Customer"]
    assert cfg.lanes == ("Awareness", "Consideration", "Handoff", "Decision", "Post-handoff")
    assert cfg.dedupe_policy == "merge" and cfg.keep_emails is False
    assert {e.name for e in cfg.exclusions} == {"student", "job_candidate", "vendor_partner"}
    assert cfg.sources == ()


def test_every_option_is_commented_in_the_template() -> None:
    lines = default_config_text().splitlines()
    section = ""
    checked = 0
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line
        elif re.match(r"^[a-z_]+ =", line) and section in ("", "[engagement]", "[dedupe]", "[privacy]", "[quality]", "[analysis]"):
            assert lines[i - 1].startswith("#"), f"{section} {line!r} has no comment above it"
            checked += 1
    assert checked >= 8
    # each source field the validator accepts is described in the [[sources]] comment block
    text = "\n".join(lines)
    for f in fields(Source):
        assert re.search(rf"^#\s+{f.name}\b", text, flags=re.MULTILINE) or f.name in ("columns", "rules"), f.name  # rules: the table forms of [sources.columns]
    assert "[sources.columns]" in text


def test_aliases_match_ignoring_case_and_punctuation() -> None:
    cfg = parse_config(default_config_text())
    aliases = cfg.stage_aliases()
    assert aliases["marketingqualifiedlead"] == "MQL"
    assert aliases["mql"] == "MQL"
    channels = cfg.channel_aliases()
    assert channels["organicsearch"] == "seo" and channels["ppc"] == "paid_search"


def test_twenty_stages_and_hubspot_lifecycle_are_expressible() -> None:
    stages = "\n".join(
        f'[[stages]]\nname = "S{i}"\nlane = "Awareness"\noptional = {"true" if i % 3 == 0 else "false"}\n'
        for i in range(20)
    )
    cfg = parse_config('lanes = ["Awareness"]\n' + stages)
    assert len(cfg.stages) == 20 and cfg.stages[3].optional
    hubspot = default_config_text().replace(
        "[[stages]]\nname = \"Lead\"",
        '[[stages]]\nname = "Subscriber"\nlane = "Awareness"\noptional = true\n\n[[stages]]\nname = "Lead"',
        1,
    )
    assert parse_config(hubspot).stage_names[0] == "Subscriber"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('policy = "merge"', 'policy = "fold"'), "dedupe.policy: expected one of merge, keep"),
        (('timezone = "UTC"', 'timezone = "Mars/Olympus"'), "engagement.timezone: unknown time zone"),
        (('lane = "Handoff"', 'lane = "Nowhere"'), "stages[2].lane: 'Nowhere' is not one of lanes"),
        (("average_deal_size = 25000.0", "average_deal_size = -1"), "engagement.average_deal_size: must be positive"),
        (("average_deal_size = 25000.0", 'average_deal_size = "big"'), "expected float, found 'big'"),
        (('aliases = ["sales qualified lead"', 'aliases = ["mql", "sales qualified lead"'), "already an alias of stage 'MQL'"),
        (("[dedupe]", "[dedupe"), "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(edit: tuple[str, str], message: str) -> None:
    text = default_config_text()
    assert edit[0] in text
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text.replace(edit[0], edit[1], 1), origin="acme/leadjourney.toml")


def test_source_validation() -> None:
    base = default_config_text()
    ok = base + '\n[[sources]]\nname = "a"\npath = "a.csv"\nformat = "csv"\ntable = "leads"\n[sources.columns]\nlead_id = "Id"\n'
    cfg = parse_config(ok)
    assert cfg.source("a").columns == {"lead_id": "Id"}
    with pytest.raises(ConfigError, match=r"sources\[0\]\.table: expected one of leads"):
        parse_config(base + '\n[[sources]]\nname = "a"\npath = "a.csv"\nformat = "csv"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.format"):
        parse_config(base + '\n[[sources]]\nname = "a"\npath = "a.csv"\nformat = "xlsx"\n')
    with pytest.raises(ConfigError, match="no source named 'b'"):
        cfg.source("b")


def test_config_dataclass_has_no_undocumented_fields() -> None:
    names = {f.name for f in fields(Config)}
    text = default_config_text()
    for name in names - {"name", "stages", "channels", "exclusions", "sources", "dedupe_policy"}:
        assert name in text, name
