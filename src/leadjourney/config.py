"""The engagement configuration: ``leadjourney.toml`` parsed and validated.

The commented template ``default_config.toml`` is the single declaration of
every option and its default; :func:`load_config` validates a user's file into
frozen dataclasses and names the key of any invalid value.

>>> cfg = parse_config(default_config_text())
>>> [s.name for s in cfg.stages]
['Lead', 'MQL', 'SQL', 'Opportunity', 'Customer']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadjourney.criteria import LEAD_STATUSES, Criterion, Definition, parse_criterion
from leadjourney.errors import ConfigError, OptionError
from leadjourney.rowfilter import parse_filter
from leadjourney.schema import (
    CONFIG_FILE as CONFIG_FILE,  # declared where a workspace finds it without loading this parser
)
from leadjourney.schema import (
    ENGINE_BACKENDS as ENGINE_BACKENDS,  # declared where the CLI reads them without loading this parser
)
from leadjourney.schema import (
    SOURCE_FORMATS as SOURCE_FORMATS,  # declared beside the tables they load into
)

CANONICAL_TABLES = ("leads", "stage_events", "touchpoints", "opportunities", "web_traffic", "web_sessions")
DEDUPE_POLICIES = ("merge", "keep")
UNASSIGNED_PERSONA = "unassigned"  # leads that match no [[personas]] rule
# the template's [outcomes] and [missing] defaults, for configs written before those tables existed
DEFAULT_WON = ("Closed Won", "Won", "true", "t", "yes", "y", "1")
DEFAULT_LOST = ("Closed Lost", "Lost", "false", "f", "no", "n", "0")
DEFAULT_PLACEHOLDERS = ("unknown", "n/a", "#n/a", "none", "(none)", "null", "-", "--", "(not set)", "not set",
                        "select", "--select--", "-- select --", "please select", "not provided", "[not provided]",
                        "not specified")


def transition_key(text: str, stages: tuple[Stage, ...] = ()) -> str:
    """A "From->To" transition as stored: spaces around the arrow dropped; with ``stages``, each side
    given as its stage's name when it is one of that stage's aliases.

    >>> transition_key("Marketing Qualified -> SQL")
    'Marketing Qualified->SQL'
    """
    sides = [side.strip() for side in re.split(r"\s*->\s*", text.strip(), maxsplit=1)]
    if stages:
        stage_of = {normalize_key(a): st.name for st in stages for a in (st.name, *st.aliases)}
        sides = [stage_of.get(normalize_key(side), side) for side in sides]
    return "->".join(sides)


def normalize_key(text: str) -> str:
    """Lower-case and drop everything but letters and digits: how aliases match.

    >>> normalize_key("Marketing Qualified Lead")
    'marketingqualifiedlead'
    """
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@dataclass(frozen=True)
class Stage:
    name: str
    lane: str
    aliases: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Exclusion:
    name: str
    field: str
    pattern: str


@dataclass(frozen=True)
class Persona:
    """A buyer persona and the rules that put a lead in it (see ``[[personas]]`` in the template)."""

    name: str
    job_title: str | None = None  # case-insensitive regular expression
    industries: tuple[str, ...] = ()  # matched ignoring case
    min_employees: int | None = None
    max_employees: int | None = None
    match: str = "all"  # "all" rules given must hold, or "any" one of them

    @property
    def has_rules(self) -> bool:
        return bool(self.job_title or self.industries or self.min_employees is not None
                    or self.max_employees is not None)


@dataclass(frozen=True)
class BenchmarkSetting:
    """A ``[[benchmarks]]`` entry: replaces the built-in benchmark with the same key, or adds one.

    Fields left out keep the built-in's value (for a new key: metric, low and label are required).
    """

    key: str
    enabled: bool = True
    metric: str | None = None
    label: str | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    tier: str | None = None
    transition: str | None = None
    source: str | None = None
    citation: str | None = None


@dataclass(frozen=True)
class ColumnRule:
    """A ``[sources.columns]`` entry that is more than a file column's name (see the template).

    Exactly one of ``column``, ``columns`` or ``value`` is set.
    """

    column: str | None = None  # a file column, its values passed through ``map``
    columns: tuple[str, ...] = ()  # several file columns joined with ``separator`` (blank when one is blank)
    separator: str = ":"
    value: str | None = None  # the same value on every row
    map: dict[str, str] = field(default_factory=dict)  # file value (ignoring case and surrounding spaces) -> value


COLUMN_RULE_KEYS = ("column", "columns", "map", "separator", "value")


@dataclass(frozen=True)
class Source:
    name: str
    path: str
    format: str
    table: str | None = None
    timezone: str | None = None
    day_first: bool = False
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = field(default_factory=dict)  # canonical column -> file column
    rules: dict[str, ColumnRule] = field(default_factory=dict)  # canonical column -> constant, map or join
    where: str | None = None  # row filter over the file's columns (leadjourney.rowfilter); others are not loaded


@dataclass(frozen=True)
class MonitorSettings:
    """``[monitor]``: the thresholds of ``leadjourney monitor`` (defaults from the playbook, Phase 4a)."""

    decline_points: float = 5.0
    consecutive_periods: int = 2
    reengage_points: float = 10.0
    transitions: tuple[str, ...] = ("MQL->SQL", "SQL->Opportunity")
    speed_to_lead_max_minutes: float = 120.0
    maturity_days: int = 30
    maturity_quantile: float = 0.9
    min_n: int = 30
    ingest_max_age_days: int = 35
    undated_rise_points: float = 1.0
    undated_reference_periods: int = 3
    new_item_min_count: int = 1
    drift_rise_points: float = 5.0
    stall_growth_factor: float = 1.5
    alpha: float = 0.05
    checkin_days: int = 90
    checkin_reminder_days: int = 14
    impact_cycle_days: int = 90


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: SMTP and webhook delivery; secrets are read from the named environment variables."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    allow_plaintext_auth: bool = False
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_username_env: str | None = None
    smtp_password_env: str | None = None
    slack_webhook_env: str | None = None
    report_url: str | None = None
    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0




@dataclass(frozen=True)
class EngineSettings:
    """``[engine]``: the Ibis backend analyses run on (:mod:`leadjourney.backends`)."""

    backend: str = "duckdb"  # "duckdb": the workspace file; "pyspark": the exported Parquet tables on Spark
    master: str = "local[*]"  # pyspark: the Spark master URL (local[*], spark://host:7077, yarn, ...)
    tables: str = "tables"  # pyspark: the folder (under the workspace, or absolute) of the exported tables
    url_env: str = "LEADJOURNEY_WAREHOUSE_URL"  # postgres: the environment variable holding the connection URL
    schema: str = "leadjourney"  # postgres: the schema the workspace's tables are loaded into
    # pyspark: Spark properties for the session, as (name, value) text pairs, over the local-mode defaults
    spark_conf: tuple[tuple[str, str], ...] = ()


PLAINTEXT_AUTH_REFUSED = ("false with SMTP credentials would send them unencrypted; turn STARTTLS on, "
                          "or set [alerts] allow_plaintext_auth = true for a server you trust (e.g. on localhost)")


def plaintext_auth_refused(settings: AlertSettings) -> bool:
    """Whether SMTP credentials would go without STARTTLS and the config has not opted in to that."""
    has_credentials = bool(settings.smtp_username_env or settings.smtp_password_env)
    return bool(settings.smtp_host) and has_credentials and not settings.smtp_starttls \
        and not settings.allow_plaintext_auth


@dataclass(frozen=True)
class Config:
    """A validated engagement configuration."""

    name: str
    currency: str
    average_deal_size: float
    timezone: str
    lanes: tuple[str, ...]
    stages: tuple[Stage, ...]
    channels: dict[str, tuple[str, ...]]
    exclusions: tuple[Exclusion, ...]
    dedupe_policy: str
    keep_emails: bool
    future_tolerance_hours: float
    speed_to_lead_from: str
    dark_after_days: int
    sources: tuple[Source, ...]
    min_n: int = 30  # [analysis] min_n: fewer people behind a rate is "too few to judge" everywhere
    maturity_days: int = 30  # [analysis]: a creation cohort is judged at a transition after at least this many days
    maturity_quantile: float = 0.9  # [analysis]: ... and after this share of the baseline's conversion times
    young_points: float = 1.0  # [analysis]: projected final this many points above observed: still converting
    engaged_by: str = "open"  # [analysis]: what engages a person with an e-mail campaign: "open" (or click), "click"
    nurture_wait_days: int = 14  # [analysis]: a nurture step this recent without the next is in flight, not left
    nurture_programs: tuple[str, ...] = ()  # [analysis]: campaigns that are nurture sequences, however they look
    engaged_window_days: int = 7  # [analysis]: days after a person's first e-mail of a campaign engagement counts
    personas: tuple[Persona, ...] = ()
    benchmarks: tuple[BenchmarkSetting, ...] = ()
    targets: dict[str, float] = field(default_factory=dict)  # ideal-state conversion per "From->To"
    actions: tuple[dict[str, Any], ...] = ()  # [[actions]]: checked by leadjourney.reports.catalogue
    definitions: tuple[Definition, ...] = ()  # the Definition Alignment Document's terms
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)  # [engine]: where analyses run
    dashboard_auth_env: str = "LEADJOURNEY_DASHBOARD_TOKEN"  # env var holding the dashboard's token or password hash
    show_owners: bool = False  # [privacy] show_owners: the dashboard shows owners' names, not pseudonyms
    won_values: tuple[str, ...] = ()  # [outcomes]: a deal's stage or won value meaning won
    lost_values: tuple[str, ...] = ()  # [outcomes]: ... meaning lost
    placeholders: tuple[str, ...] = ()  # [missing]: values stored as missing in every column but ids
    placeholder_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # [missing.placeholder_columns]
    brand_color: str = "#1A73E8"  # [engagement] color: the deliverables' theme colour
    labels: dict[str, str] = field(default_factory=dict)  # [labels]: display names of values in human outputs

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def stage_aliases(self) -> dict[str, str]:
        """Normalized spelling -> canonical stage name (the name itself included)."""
        out: dict[str, str] = {}
        for stage in self.stages:
            for spelling in (stage.name, *stage.aliases):
                out[normalize_key(spelling)] = stage.name
        return out

    def placeholders_for(self, column: str) -> tuple[str, ...]:
        """The placeholder spellings of a canonical column, lower-cased and trimmed."""
        spellings = (*self.placeholders, *self.placeholder_columns.get(column, ()))
        return tuple(dict.fromkeys(s.strip().lower() for s in spellings))

    def channel_aliases(self) -> dict[str, str]:
        """Normalized spelling -> canonical channel (the channel name itself included)."""
        out: dict[str, str] = {}
        for channel, spellings in self.channels.items():
            for spelling in (channel, *spellings):
                out[normalize_key(spelling)] = channel
        return out

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none"
        raise OptionError(f"no source named {name!r} in {CONFIG_FILE} (sources: {known})")


def default_config_text() -> str:
    """The commented default configuration, as written by ``leadjourney init``."""
    # imported here, as the other readers below do theirs: `leadjourney --help` reads no configuration
    from importlib import resources

    return resources.files("leadjourney").joinpath("default_config.toml").read_text("utf-8")


def load_config(path: Path) -> Config:
    """Read and validate a configuration file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; create one with `leadjourney init`") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_config(text, origin=str(path))


def parse_config(text: str, origin: str = CONFIG_FILE) -> Config:
    """Validate configuration text; errors name ``origin`` and the offending key."""
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    return _Validator(raw, origin, text).config()


class _Validator:
    def __init__(self, raw: dict[str, Any], origin: str, text: str = "") -> None:
        self.raw = raw
        self.origin = origin
        self.text = text

    def fail(self, key: str, problem: str) -> OptionError:
        return OptionError(f"{self.origin}: {key}: {problem}")

    def get(self, table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str,
            default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(f"{where}.{key}".lstrip("."), "is required")
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}".lstrip("."), f"expected {expected}, found {value!r}")
        return value

    def timezone(self, name: str, key: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin'") from None
        return name

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of strings, found {value!r}")
        return tuple(value)

    def config(self) -> Config:
        raw = self.raw
        eng = self.get(raw, "engagement", dict, "", {})
        lanes = self.strings(raw.get("lanes", []), "lanes")
        if not lanes:
            raise self.fail("lanes", "at least one lane is required")
        stages = self.stages(lanes)
        self.stage_references(stages)
        channels_raw = self.get(raw, "channels", dict, "", {})
        channels = {k: self.strings(v, f"channels.{k}") for k, v in channels_raw.items()}
        dedupe = self.get(raw, "dedupe", dict, "", {})
        policy = self.get(dedupe, "policy", str, "dedupe", "merge")
        if policy not in DEDUPE_POLICIES:
            raise self.fail("dedupe.policy", f"expected one of {', '.join(DEDUPE_POLICIES)}, found {policy!r}")
        privacy = self.get(raw, "privacy", dict, "", {})
        quality = self.get(raw, "quality", dict, "", {})
        analysis = self.get(raw, "analysis", dict, "", {})
        speed_from = self.get(analysis, "speed_to_lead_from", str, "analysis", "mql")
        if speed_from not in ("mql", "form_fill"):
            raise self.fail("analysis.speed_to_lead_from", f"expected mql or form_fill, found {speed_from!r}")
        dark_days = self.get(analysis, "dark_after_days", int, "analysis", 30)
        if dark_days < 1:
            raise self.fail("analysis.dark_after_days", f"must be at least 1, found {dark_days}")
        min_n = self.min_n(analysis)
        maturity_days, maturity_quantile = self.maturity(analysis)
        young_points = self.get(analysis, "young_points", float, "analysis", 1.0)
        if young_points <= 0:
            raise self.fail("analysis.young_points", f"must be positive, found {young_points}")
        engaged_by = self.get(analysis, "engaged_by", str, "analysis", "open")
        if engaged_by not in ("open", "click"):
            raise self.fail("analysis.engaged_by", f"expected open or click, found {engaged_by!r}")
        nurture_wait = self.get(analysis, "nurture_wait_days", int, "analysis", 14)
        if nurture_wait < 0:
            raise self.fail("analysis.nurture_wait_days", f"must be 0 or more, found {nurture_wait}")
        nurture_programs = self.strings(analysis.get("nurture_programs", []), "analysis.nurture_programs")
        engaged_window = self.get(analysis, "engaged_window_days", int, "analysis", 7)
        if engaged_window < 1:
            raise self.fail("analysis.engaged_window_days", f"must be at least 1, found {engaged_window}")
        deal = self.get(eng, "average_deal_size", float, "engagement", 25000.0)
        personas = self.personas()
        if deal <= 0:
            raise self.fail("engagement.average_deal_size", f"must be positive, found {deal}")
        return Config(
            name=self.get(eng, "name", str, "engagement", "Inbound lead journey"),
            currency=self.get(eng, "currency", str, "engagement", "USD"),
            average_deal_size=deal,
            timezone=self.timezone(self.get(eng, "timezone", str, "engagement", "UTC"), "engagement.timezone"),
            lanes=lanes,
            stages=stages,
            channels=channels,
            exclusions=self.exclusions(),
            dedupe_policy=policy,
            keep_emails=self.get(privacy, "keep_emails", bool, "privacy", False),
            future_tolerance_hours=self.get(quality, "future_tolerance_hours", float, "quality", 24.0),
            speed_to_lead_from=speed_from,
            dark_after_days=dark_days,
            min_n=min_n,
            maturity_days=maturity_days,
            maturity_quantile=maturity_quantile,
            young_points=young_points,
            engaged_by=engaged_by,
            nurture_wait_days=nurture_wait,
            nurture_programs=nurture_programs,
            engaged_window_days=engaged_window,
            sources=self.sources(),
            personas=personas,
            benchmarks=self.benchmarks(),
            targets=self.targets(stages),
            actions=self.actions(),
            definitions=self.definitions(stages, channels, personas),
            dashboard_auth_env=self.dashboard_auth_env(),
            show_owners=self.get(privacy, "show_owners", bool, "privacy", False),
            monitor=self.monitor(stages, min_n, maturity_days, maturity_quantile),
            alerts=self.alerts(),
            engine=self.engine(),
            **self.outcomes(),
            **self.missing(),
            brand_color=self.color(eng),
            labels=self.labels(),
        )

    def color(self, eng: dict[str, Any]) -> str:
        """[engagement] color: a #RRGGBB colour."""
        value = self.get(eng, "color", str, "engagement", "#1A73E8")
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise self.fail("engagement.color", f"expected a colour like \"#1A73E8\", found {value!r}")
        return value.upper()

    def labels(self) -> dict[str, str]:
        """[labels]: value as stored -> the name people read (channels, kinds, personas, stages)."""
        raw = self.get(self.raw, "labels", dict, "", {})
        for key, value in raw.items():
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f'labels."{key}"', f"expected the display name as text, found {value!r}")
        return {str(k): str(v).strip() for k, v in raw.items()}

    def outcomes(self) -> dict[str, Any]:
        """[outcomes]: won_values and lost_values (no spelling in both)."""
        raw = self.get(self.raw, "outcomes", dict, "", {})
        for key in raw:
            if key not in ("won_values", "lost_values"):
                raise self.fail(f"outcomes.{key}", "unknown option; expected one of lost_values, won_values")
        won = self.strings(raw.get("won_values", list(DEFAULT_WON)), "outcomes.won_values")
        lost = self.strings(raw.get("lost_values", list(DEFAULT_LOST)), "outcomes.lost_values")
        both = sorted({normalize_key(v) for v in won} & {normalize_key(v) for v in lost})
        if both:
            raise self.fail("outcomes.lost_values", f"{', '.join(map(repr, both))} also in won_values")
        return {"won_values": won, "lost_values": lost}

    def missing(self) -> dict[str, Any]:
        """[missing]: placeholders, and more per canonical column in [missing.placeholder_columns]."""
        raw = self.get(self.raw, "missing", dict, "", {})
        for key in raw:
            if key not in ("placeholders", "placeholder_columns"):
                raise self.fail(f"missing.{key}", "unknown option; expected placeholders or placeholder_columns")
        values = self.strings(raw.get("placeholders", list(DEFAULT_PLACEHOLDERS)), "missing.placeholders")
        columns_raw = self.get(raw, "placeholder_columns", dict, "missing", {})
        columns = {k: self.strings(v, f"missing.placeholder_columns.{k}") for k, v in columns_raw.items()}
        return {"placeholders": values, "placeholder_columns": columns}

    def min_n(self, analysis: dict[str, Any]) -> int:
        """[analysis] min_n (earlier configs set it under [monitor]: read there when [analysis] does not)."""
        monitor = self.get(self.raw, "monitor", dict, "", {})
        legacy = self.get(monitor, "min_n", int, "monitor", 30)
        value = self.get(analysis, "min_n", int, "analysis", legacy)
        if value < 1:
            raise self.fail("analysis.min_n", f"must be at least 1, found {value}")
        return value

    def maturity(self, analysis: dict[str, Any]) -> tuple[int, float]:
        """[analysis] maturity_days and maturity_quantile (earlier configs set them under [monitor])."""
        monitor = self.get(self.raw, "monitor", dict, "", {})
        days = self.get(analysis, "maturity_days", int, "analysis",
                        self.get(monitor, "maturity_days", int, "monitor", 30))
        quantile = self.get(analysis, "maturity_quantile", float, "analysis",
                            self.get(monitor, "maturity_quantile", float, "monitor", 0.9))
        if not 0 <= quantile < 1:
            raise self.fail("analysis.maturity_quantile", f"must be 0 (off) or between 0 and 1, found {quantile}")
        if days < 0:
            raise self.fail("analysis.maturity_days", f"must be 0 or more, found {days}")
        return days, quantile

    def monitor(self, stages: tuple[Stage, ...], min_n: int, maturity_days: int,
                maturity_quantile: float) -> MonitorSettings:
        """[monitor]: thresholds of `leadjourney monitor`."""
        raw = self.get(self.raw, "monitor", dict, "", {})
        d = MonitorSettings()
        self.known(raw, MonitorSettings, "monitor")
        names = [s.name for s in stages]
        pairs = {f"{a}->{b}" for a, b in itertools.pairwise(names)}
        if "transitions" not in raw:  # the default gates (out of MQL, out of SQL) in this lifecycle: they follow it
            stage_of = {normalize_key(a): st.name for st in stages for a in (st.name, *st.aliases)}
            gates = {stage_of.get(normalize_key(t.split("->")[0])) for t in d.transitions}
            raw = {**raw, "transitions": [f"{a}->{b}" for a, b in itertools.pairwise(names) if a in gates]}
        transitions = self.strings(raw["transitions"], "monitor.transitions")
        for t in transitions:
            if transition_key(t, stages) not in pairs:
                raise self.fail("monitor.transitions", f"{t!r} is not a transition between consecutive stages; "
                                                       f"use {', '.join(sorted(pairs))}")
        out = MonitorSettings(
            decline_points=self.get(raw, "decline_points", float, "monitor", d.decline_points),
            consecutive_periods=self.get(raw, "consecutive_periods", int, "monitor", d.consecutive_periods),
            reengage_points=self.get(raw, "reengage_points", float, "monitor", d.reengage_points),
            transitions=tuple(transition_key(t, stages) for t in transitions),
            speed_to_lead_max_minutes=self.get(raw, "speed_to_lead_max_minutes", float, "monitor",
                                               d.speed_to_lead_max_minutes),
            maturity_days=maturity_days,
            maturity_quantile=maturity_quantile,
            min_n=min_n,
            ingest_max_age_days=self.get(raw, "ingest_max_age_days", int, "monitor", d.ingest_max_age_days),
            undated_rise_points=self.get(raw, "undated_rise_points", float, "monitor", d.undated_rise_points),
            undated_reference_periods=self.get(raw, "undated_reference_periods", int, "monitor",
                                               d.undated_reference_periods),
            new_item_min_count=self.get(raw, "new_item_min_count", int, "monitor", d.new_item_min_count),
            drift_rise_points=self.get(raw, "drift_rise_points", float, "monitor", d.drift_rise_points),
            stall_growth_factor=self.get(raw, "stall_growth_factor", float, "monitor", d.stall_growth_factor),
            alpha=self.get(raw, "alpha", float, "monitor", d.alpha),
            checkin_days=self.get(raw, "checkin_days", int, "monitor", d.checkin_days),
            checkin_reminder_days=self.get(raw, "checkin_reminder_days", int, "monitor", d.checkin_reminder_days),
            impact_cycle_days=self.get(raw, "impact_cycle_days", int, "monitor", d.impact_cycle_days),
        )
        if not 0 < out.alpha < 1:
            raise self.fail("monitor.alpha", f"must be between 0 and 1, found {out.alpha}")
        if out.stall_growth_factor <= 1:
            raise self.fail("monitor.stall_growth_factor", f"must be above 1, found {out.stall_growth_factor}")
        if out.checkin_reminder_days < 0:
            raise self.fail("monitor.checkin_reminder_days", f"must be 0 or more, found {out.checkin_reminder_days}")
        for key in ("decline_points", "reengage_points", "speed_to_lead_max_minutes", "drift_rise_points",
                    "undated_rise_points"):
            if getattr(out, key) <= 0:
                raise self.fail(f"monitor.{key}", f"must be positive, found {getattr(out, key)}")
        for key in ("consecutive_periods", "ingest_max_age_days", "new_item_min_count", "checkin_days",
                    "undated_reference_periods", "impact_cycle_days"):
            if getattr(out, key) < 1:
                raise self.fail(f"monitor.{key}", f"must be at least 1, found {getattr(out, key)}")
        return out

    def alerts(self) -> AlertSettings:
        """[alerts]: SMTP and webhook delivery; secrets only as environment variable names."""
        raw = self.get(self.raw, "alerts", dict, "", {})
        d = AlertSettings()
        self.known(raw, AlertSettings, "alerts")
        names = {}
        for key in ("smtp_username_env", "smtp_password_env", "slack_webhook_env"):
            name = self.get(raw, key, str, "alerts", None)
            if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise self.fail(f"alerts.{key}", "expected the NAME of an environment variable (like "
                                                 "LEADJOURNEY_SMTP_PASSWORD), not the secret itself")
            names[key] = name
        out = AlertSettings(
            smtp_host=self.get(raw, "smtp_host", str, "alerts", None),
            smtp_port=self.get(raw, "smtp_port", int, "alerts", d.smtp_port),
            smtp_starttls=self.get(raw, "smtp_starttls", bool, "alerts", d.smtp_starttls),
            allow_plaintext_auth=self.get(raw, "allow_plaintext_auth", bool, "alerts", d.allow_plaintext_auth),
            smtp_from=self.get(raw, "smtp_from", str, "alerts", None),
            smtp_to=self.strings(raw.get("smtp_to", []), "alerts.smtp_to"),
            report_url=self.get(raw, "report_url", str, "alerts", None),
            attempts=self.get(raw, "attempts", int, "alerts", d.attempts),
            backoff_seconds=self.get(raw, "backoff_seconds", float, "alerts", d.backoff_seconds),
            timeout_seconds=self.get(raw, "timeout_seconds", float, "alerts", d.timeout_seconds),
            **names,
        )
        if out.smtp_host and not (out.smtp_from and out.smtp_to):
            raise self.fail("alerts.smtp_from", "smtp_host is set: smtp_from and smtp_to are required too")
        if plaintext_auth_refused(out):
            raise self.fail("alerts.smtp_starttls", PLAINTEXT_AUTH_REFUSED)
        if not 1 <= out.smtp_port <= 65535:
            raise self.fail("alerts.smtp_port", f"expected a port 1-65535, found {out.smtp_port}")
        if out.attempts < 1:
            raise self.fail("alerts.attempts", f"must be at least 1, found {out.attempts}")
        if out.backoff_seconds < 0 or out.timeout_seconds <= 0:
            raise self.fail("alerts.backoff_seconds", "backoff must be 0 or more and the timeout positive")
        return out

    def known(self, raw: dict[str, Any], settings: type[MonitorSettings | AlertSettings], where: str) -> None:
        """Reject options a settings table does not declare, naming the key."""
        fields = set(settings.__dataclass_fields__)
        for key in raw:
            if key not in fields:
                raise self.fail(f"{where}.{key}", f"unknown option; expected one of {', '.join(sorted(fields))}")

    def engine(self) -> EngineSettings:
        """[engine]: backend (duckdb, pyspark or postgres), master (a Spark master URL), tables (the export
        folder), url_env (the variable holding a warehouse's URL), schema (the warehouse schema)."""
        from difflib import get_close_matches

        raw = self.get(self.raw, "engine", dict, "", {})
        fields = tuple(EngineSettings.__dataclass_fields__)
        for key in raw:
            if key not in fields:
                close = get_close_matches(key, fields, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(f"engine.{key}", f"unknown option; {hint}expected one of {', '.join(fields)}")
        backend = self.get(raw, "backend", str, "engine", "duckdb")
        if backend not in ENGINE_BACKENDS:
            raise self.fail("engine.backend", f"expected one of {', '.join(ENGINE_BACKENDS)}, found {backend!r}")
        master = self.get(raw, "master", str, "engine", "local[*]").strip()
        tables = self.get(raw, "tables", str, "engine", "tables").strip()
        if not master:
            raise self.fail("engine.master", "expected a Spark master URL like \"local[*]\", found nothing")
        if not tables:
            raise self.fail("engine.tables", "expected a folder name, found nothing")
        url_env = self.get(raw, "url_env", str, "engine", EngineSettings.url_env).strip()
        schema = self.get(raw, "schema", str, "engine", EngineSettings.schema).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", url_env):
            raise self.fail("engine.url_env", "expected the name of an environment variable (letters, digits, _) "
                            "holding the URL, not the URL itself (not repeated here: it may hold a password)")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise self.fail("engine.schema", f"expected a lower-case schema name (letters, digits, _), found {schema!r}")
        return EngineSettings(backend, master, tables, url_env, schema, self.spark_conf(raw))

    def spark_conf(self, engine: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """[engine] spark_conf: a table of Spark properties (``spark.*`` names; text, number or true/false
        values), as sorted (name, value) text pairs; memory sizes checked here, not by a JVM failing to start."""
        def flat(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
            for name, value in table.items():  # [engine.spark_conf] spark.driver.memory = ... nests: its dotted name
                if isinstance(value, dict):
                    yield from flat(value, f"{prefix}{name}.")
                else:
                    yield f"{prefix}{name}", value

        pairs = []
        for name, value in flat(self.get(engine, "spark_conf", dict, "engine", {})):
            key = f"engine.spark_conf.{name}"
            if not re.fullmatch(r"spark\.[A-Za-z0-9_.\-]+", name):
                raise self.fail(key, "expected a Spark property name starting with \"spark.\" "
                                "(like \"spark.driver.memory\")")
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int | float | str):
                text = str(value).strip()
            else:
                raise self.fail(key, f"expected text, a number or true/false, found {value!r}")
            if not text:
                raise self.fail(key, "expected a value, found nothing")
            if name.endswith(".memory") and not re.fullmatch(r"\d+[kmgtp]?b?", text, re.IGNORECASE):
                raise self.fail(key, f"expected a size like \"8g\" or \"512m\", found {text!r}")
            pairs.append((name, text))
        return tuple(sorted(pairs))

    def dashboard_auth_env(self) -> str:
        """[dashboard] auth_env: the name of the environment variable with the dashboard's credential."""
        dashboard = self.get(self.raw, "dashboard", dict, "", {})
        name = self.get(dashboard, "auth_env", str, "dashboard", "LEADJOURNEY_DASHBOARD_TOKEN")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail("dashboard.auth_env", f"expected an environment variable name, found {name!r}")
        return name

    def actions(self) -> tuple[dict[str, Any], ...]:
        """The [[actions]] blocks; their fields are checked against the catalogue by ``leadjourney recommend``."""
        items = self.raw.get("actions", [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self.fail("actions", "expected [[actions]] blocks")
        for i, item in enumerate(items):
            self.get(item, "key", str, f"actions[{i}]")
        return tuple(dict(i) for i in items)

    def targets(self, stages: tuple[Stage, ...]) -> dict[str, float]:
        raw = self.get(self.raw, "targets", dict, "", {})
        names = [s.name for s in stages]
        pairs = {f"{a}->{b}" for a, b in itertools.pairwise(names)}
        out: dict[str, float] = {}
        for key, value in raw.items():
            where = f'targets."{key}"'
            if transition_key(key, stages) not in pairs:
                raise self.fail(where, f"not a transition between consecutive stages; use one of {', '.join(sorted(pairs))}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise self.fail(where, f"expected a conversion rate between 0 and 1 (0.3 for 30%), found {value!r}")
            out[transition_key(key, stages)] = float(value)
        return out

    def definitions(self, stages: tuple[Stage, ...], channels: dict[str, tuple[str, ...]],
                    personas: tuple[Persona, ...]) -> tuple[Definition, ...]:
        items = self.raw.get("definitions", [])
        if not isinstance(items, list):
            raise self.fail("definitions", "expected [[definitions]] blocks")
        stage_of = {normalize_key(s): st.name for st in stages for s in (st.name, *st.aliases)}
        out: list[Definition] = []
        for i, item in enumerate(items):
            where = f"definitions[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, f"expected a [[definitions]] block, found {item!r}")
            known = set(Definition.__dataclass_fields__)
            for key in item:
                if key not in known:
                    raise self.fail(f"{where}.{key}", f"unknown field; expected one of {', '.join(sorted(known))}")
            term = self.get(item, "term", str, where).strip()
            if not term or normalize_key(term) in {normalize_key(d.term) for d in out}:
                raise self.fail(f"{where}.term", f"term {term!r} is empty or used twice")
            stage = self.get(item, "stage", str, where, None)
            if stage is not None:
                if normalize_key(stage) not in stage_of:
                    raise self.fail(f"{where}.stage", f"{stage!r} is not a configured stage "
                                                      f"({', '.join(s.name for s in stages)})")
                stage = stage_of[normalize_key(stage)]
            texts = self.strings(item.get("criteria", []), f"{where}.criteria")
            if texts and stage is None:
                raise self.fail(f"{where}.criteria", "criteria apply to a stage; set stage to one of "
                                                     f"{', '.join(s.name for s in stages)}")
            criteria = tuple(self.criterion(t, f"{where}.criteria[{j}]", channels, personas)
                             for j, t in enumerate(texts))
            sla = self.get(item, "sla_minutes", float, where, None)
            if sla is not None and sla <= 0:
                raise self.fail(f"{where}.sla_minutes", f"must be positive, found {sla}")
            out.append(Definition(term, self.get(item, "definition", str, where).strip(), stage, criteria, sla))
        return tuple(out)

    def criterion(self, text: str, key: str, channels: dict[str, tuple[str, ...]],
                  personas: tuple[Persona, ...]) -> Criterion:
        """Parse one criterion and bring its values to the form the data has (canonical channel, kind, ...)."""
        try:
            c = parse_criterion(text)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if c.op == "matches":
            return c
        values: tuple[float | str, ...] = c.values
        if c.field == "has_touch":  # touchpoint kinds are stored like this by ingest
            values = tuple(re.sub(r"[^a-z0-9]+", "_", str(v)) for v in values)
        elif c.field == "source":
            aliases = {normalize_key(s): ch for ch, spellings in channels.items() for s in (ch, *spellings)}
            values = tuple(aliases.get(normalize_key(str(v)), v) for v in values)
        elif c.field == "status" and not set(values) <= set(LEAD_STATUSES):
            raise self.fail(key, f"status is one of {', '.join(LEAD_STATUSES)}, found {text!r}")
        elif c.field == "persona":
            names = {p.name.lower() for p in personas} | {UNASSIGNED_PERSONA}
            if not set(values) <= names:
                raise self.fail(key, f"no such persona in {text!r} (personas: {', '.join(sorted(names))})")
        return Criterion(c.text, c.field, c.op, values)

    def benchmarks(self) -> tuple[BenchmarkSetting, ...]:
        items = self.raw.get("benchmarks", [])
        if not isinstance(items, list):
            raise self.fail("benchmarks", "expected [[benchmarks]] blocks")
        out: list[BenchmarkSetting] = []
        for i, item in enumerate(items):
            where = f"benchmarks[{i}]"
            known = {f for f in BenchmarkSetting.__dataclass_fields__}
            for key in item:
                if key not in known:
                    raise self.fail(f"{where}.{key}", f"unknown field; expected one of {', '.join(sorted(known))}")
            texts = {k: self.get(item, k, str, where, None)
                     for k in ("metric", "label", "unit", "tier", "transition", "source", "citation")}
            low = self.get(item, "low", float, where, None)
            high = self.get(item, "high", float, where, low)
            if low is not None and high is not None and high < low:
                raise self.fail(f"{where}.high", f"{high} is below low {low}")
            out.append(BenchmarkSetting(self.get(item, "key", str, where), self.get(item, "enabled", bool, where, True),
                                        low=low, high=high, **texts))
        return tuple(out)

    def personas(self) -> tuple[Persona, ...]:
        items = self.raw.get("personas", [])
        if not isinstance(items, list):
            raise self.fail("personas", "expected [[personas]] blocks")
        out: list[Persona] = []
        for i, item in enumerate(items):
            where = f"personas[{i}]"
            name = self.get(item, "name", str, where)
            if name in {p.name for p in out} or name == UNASSIGNED_PERSONA:
                raise self.fail(f"{where}.name", f"persona name {name!r} is used twice or reserved")
            title = self.get(item, "job_title", str, where, None)
            if title is not None:
                try:
                    re.compile(title)
                except re.error as exc:
                    raise self.fail(f"{where}.job_title", f"invalid regular expression: {exc}") from None
            low = self.get(item, "min_employees", int, where, None)
            high = self.get(item, "max_employees", int, where, None)
            if low is not None and high is not None and low > high:
                raise self.fail(f"{where}.max_employees", f"{high} is below min_employees {low}")
            match = self.get(item, "match", str, where, "all")
            if match not in ("all", "any"):
                raise self.fail(f"{where}.match", f"expected all or any, found {match!r}")
            persona = Persona(name, title, self.strings(item.get("industries", []), f"{where}.industries"),
                              low, high, match)
            if not persona.has_rules:
                raise self.fail(where, "a persona needs at least one rule: job_title, industries, "
                                       "min_employees or max_employees")
            out.append(persona)
        return tuple(out)

    def stages(self, lanes: tuple[str, ...]) -> tuple[Stage, ...]:
        items = self.raw.get("stages", [])
        if not isinstance(items, list) or len(items) < 2:
            raise self.fail("stages", "at least two [[stages]] are required")
        out: list[Stage] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(items):
            where = f"stages[{i}]"
            name = self.get(item, "name", str, where)
            lane = self.get(item, "lane", str, where)
            if lane not in lanes:
                raise self.fail(f"{where}.lane", f"{lane!r} is not one of lanes {list(lanes)}")
            stage = Stage(
                name=name,
                lane=lane,
                aliases=self.strings(item.get("aliases", []), f"{where}.aliases"),
                optional=self.get(item, "optional", bool, where, False),
            )
            for spelling in (stage.name, *stage.aliases):
                key = normalize_key(spelling)
                if key in seen and seen[key] != name:
                    raise self.fail(f"{where}.aliases", f"{spelling!r} is already an alias of stage {seen[key]!r}")
                seen[key] = name
            out.append(stage)
        return tuple(out)

    def exclusions(self) -> tuple[Exclusion, ...]:
        out = []
        for i, item in enumerate(self.raw.get("exclusions", [])):
            where = f"exclusions[{i}]"
            pattern = self.get(item, "pattern", str, where)
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"{where}.pattern", f"invalid regular expression: {exc}") from None
            column = self.get(item, "field", str, where)
            if column not in ("job_title", "company", "industry", "source", "source_detail", "country"):
                raise self.fail(f"{where}.field", f"{column!r} is not a text column of leads")
            out.append(Exclusion(self.get(item, "name", str, where), column, pattern))
        return tuple(out)

    def sources(self) -> tuple[Source, ...]:
        out: list[Source] = []
        for i, item in enumerate(self.raw.get("sources", [])):
            where = f"sources[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, f"expected a [[sources]] block, found {item!r}")
            self.known_fields(item, tuple(f for f in Source.__dataclass_fields__ if f != "rules"), where)
            fmt = self.get(item, "format", str, where)
            if fmt not in SOURCE_FORMATS:
                raise self.fail(f"{where}.format", f"expected one of {', '.join(SOURCE_FORMATS)}, found {fmt!r}")
            table = self.get(item, "table", str, where, None)
            if fmt in ("csv", "parquet") and table not in CANONICAL_TABLES:
                raise self.fail(f"{where}.table", f"expected one of {', '.join(CANONICAL_TABLES)}, found {table!r}")
            tz = self.get(item, "timezone", str, where, None)
            name = self.get(item, "name", str, where)
            if name in {s.name for s in out}:
                raise self.fail(f"{where}.name", f"source name {name!r} is used twice")
            columns: dict[str, str] = {}
            rules: dict[str, ColumnRule] = {}
            for key, value in self.get(item, "columns", dict, where, {}).items():
                rule = self.column_rule(value, f"{where}.columns.{key}", name)
                if rule.column is not None and not rule.map:
                    columns[key] = rule.column
                else:
                    rules[key] = rule
            delimiter = self.get(item, "delimiter", str, where, ",")
            if len(delimiter) != 1:
                raise self.fail(f"{where}.delimiter", f"expected one character, found {delimiter!r}")
            out.append(Source(
                name=name,
                path=self.get(item, "path", str, where),
                format=fmt,
                table=table,
                timezone=self.timezone(tz, f"{where}.timezone") if tz else None,
                day_first=self.get(item, "day_first", bool, where, False),
                encoding=self.get(item, "encoding", str, where, "utf-8"),
                delimiter=delimiter,
                columns=columns,
                rules=rules,
                where=self.row_filter(item, where, name),
            ))
        return tuple(out)

    def known_fields(self, item: dict[str, Any], fields: tuple[str, ...], where: str) -> None:
        """Reject a field the block does not declare, with the closest declared one."""
        from difflib import get_close_matches

        for key in item:
            if key not in fields:
                close = get_close_matches(key, fields, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(f"{where}.{key}", f"unknown field; {hint}expected one of {', '.join(sorted(fields))}")

    def row_filter(self, item: dict[str, Any], where: str, name: str) -> str | None:
        """A source's ``where``: checked here for its form; its columns are checked against the file at ingest."""
        text = self.get(item, "where", str, where, None)
        if text is not None:
            try:
                parse_filter(text)
            except ValueError as exc:
                raise self.fail(f"{where}.where", f"source {name!r}: {exc}") from None
        return text

    def column_rule(self, value: Any, key: str, name: str) -> ColumnRule:
        """One [sources.columns] entry: a file column's name, or a table with a constant, a map or a join."""
        if isinstance(value, str):
            return ColumnRule(column=value)
        if not isinstance(value, dict):
            raise self.fail(key, f"source {name!r}: expected a column name or a table like {{ value = \"Customer\" }}, "
                                 f"found {value!r}")
        for field_name in value:
            if field_name not in COLUMN_RULE_KEYS:
                from difflib import get_close_matches

                close = get_close_matches(field_name, COLUMN_RULE_KEYS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(f"{key}.{field_name}", f"source {name!r}: unknown field; {hint}"
                                                       f"expected one of {', '.join(COLUMN_RULE_KEYS)}")
        given = [k for k in ("column", "columns", "value") if k in value]
        if len(given) != 1:
            raise self.fail(key, f"source {name!r}: give exactly one of column (a file column), columns (several "
                                 f"joined) or value (a constant); found {', '.join(given) or 'none'}")
        if "value" in value:
            constant = value["value"]
            if isinstance(constant, bool):
                constant = "true" if constant else "false"
            if not isinstance(constant, str | int | float):
                raise self.fail(f"{key}.value", f"source {name!r}: expected text or a number, found {constant!r}")
            if "map" in value or "separator" in value:
                raise self.fail(key, f"source {name!r}: a constant value takes no map or separator")
            return ColumnRule(value=str(constant))
        mapping = self.get(value, "map", dict, key, {})
        for k, v in mapping.items():
            if not isinstance(v, str):
                raise self.fail(f"{key}.map", f"source {name!r}: {k!r} maps to {v!r}; expected text")
        lowered = [k.strip().lower() for k in mapping]
        if len(set(lowered)) < len(lowered):
            raise self.fail(f"{key}.map", f"source {name!r}: a value is listed twice (ignoring case and spaces)")
        if "column" in value:
            if "separator" in value:
                raise self.fail(f"{key}.separator", f"source {name!r}: separator joins columns = [...]; "
                                                    "one column takes none")
            return ColumnRule(column=self.get(value, "column", str, key), map=dict(mapping))
        joined = self.strings(value["columns"], f"{key}.columns")
        if len(joined) < 2:
            raise self.fail(f"{key}.columns", f"source {name!r}: list at least two columns to join "
                                              "(one column: column = \"...\")")
        separator = self.get(value, "separator", str, key, ":")
        return ColumnRule(columns=joined, separator=separator, map=dict(mapping))

    def stage_references(self, stages: tuple[Stage, ...]) -> None:
        """Every stage or transition named outside [[stages]] must be one of them: one error lists each to change."""
        names = [s.name for s in stages]
        known = {normalize_key(spelling) for st in stages for spelling in (st.name, *st.aliases)}
        pairs = [f"{a}->{b}" for a, b in itertools.pairwise(names)]
        stale: list[str] = []
        items = self.raw.get("definitions", [])
        for i, item in enumerate(items if isinstance(items, list) else []):
            stage = item.get("stage") if isinstance(item, dict) else None
            if isinstance(stage, str) and normalize_key(stage) not in known:
                stale.append(self.at(f"definitions[{i}].stage: {stage!r} is not a configured stage",
                                     ("definitions", i), "stage"))
        monitor = self.raw.get("monitor")
        transitions = monitor.get("transitions") if isinstance(monitor, dict) else None
        for t in transitions if isinstance(transitions, list) else []:
            if isinstance(t, str) and transition_key(t, stages) not in pairs:
                stale.append(self.at(f"monitor.transitions: {t!r} is not a transition between consecutive stages",
                                     ("monitor", None), "transitions"))
        targets = self.raw.get("targets")
        for key in targets if isinstance(targets, dict) else {}:
            if transition_key(key, stages) not in pairs:
                stale.append(self.at(f'targets."{key}": not a transition between consecutive stages',
                                     ("targets", None), key))
        if stale:
            raise ConfigError(f"{self.origin}: [[stages]] are {', '.join(names)} (transitions: {', '.join(pairs)}); "
                              f"change each line that names another: {'; '.join(stale)}")

    def at(self, problem: str, table: tuple[str, int | None], key: str) -> str:
        line = _line_of(self.text, table[0], table[1], key)
        return problem if line is None else f"{problem} (line {line})"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _line_of(text: str, table: str, index: int | None, key: str) -> int | None:
    """The 1-based line of ``key =`` in ``[table]``, or in the ``index``-th ``[[table]]``; None when not found."""
    key_line = re.compile(rf"^\s*({re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
    current: tuple[str, int | None] | None = None
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2).strip()
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                current = (name, counts[name])
            else:
                current = (name, None)
            continue
        if current == (table, index) and key_line.match(line):
            return number
    return None
