"""``[connectors.SYSTEM]`` options: read and checked here, each named by its key in errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from leadjourney.config import CONFIG_FILE
from leadjourney.errors import ConfigError
from leadjourney.redaction import env_secret

# options every connector understands (each connector adds its own)
COMMON = ("objects", "start", "overlap_minutes", "page_size")


@dataclass(frozen=True)
class ConnectorSettings:
    """One ``[connectors.SYSTEM]`` table of leadjourney.toml."""

    system: str
    options: Mapping[str, Any] = field(default_factory=dict)
    # the workspace's [[stages]]: normalized spelling -> stage name (a connector keeps the lifecycle changes it maps)
    stages: Mapping[str, str] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"connectors.{self.system}.{name}"

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{CONFIG_FILE}: {self.key(name)}: {problem}")

    def check(self, own: Iterable[str]) -> None:
        """Refuse an option neither common nor the connector's own (a typo would be silently ignored)."""
        allowed = sorted({*COMMON, *own})
        for name in self.options:
            if name not in allowed:
                raise self.fail(name, f"unknown option; expected one of {', '.join(allowed)}")

    def text(self, name: str, default: str | None = None) -> str:
        value = self.options.get(name, default)
        if not isinstance(value, str) or not value.strip():
            if value is None:
                raise self.fail(name, "required")
            raise self.fail(name, f"expected text, found {value!r}")
        return value.strip()

    def number(self, name: str, default: int) -> int:
        value = self.options.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(name, f"expected a whole number >= 0, found {value!r}")
        return value

    def secret(self, name: str) -> str:
        """The secret held by the environment variable this option names (the option ends in ``_env``)."""
        return env_secret(self.text(name), self.key(name))

    def has(self, name: str) -> bool:
        return self.options.get(name) not in (None, "")

    def objects(self, known: Iterable[str]) -> tuple[str, ...] | None:
        """The objects to pull (None: all), each checked against the connector's."""
        value = self.options.get("objects")
        if value is None:
            return None
        names = list(known)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("objects", f"expected a list of names, found {value!r}")
        for v in value:
            if v not in names:
                raise self.fail("objects", f"unknown object {v!r}; expected some of {', '.join(names)}")
        return tuple(value)

    def start(self) -> str | None:
        """``start``: the first pull fetches records changed on or after this date (ISO), None for all."""
        value = self.options.get("start")
        if value is None:
            return None
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise self.fail("start", f"expected a date like 2024-01-01, found {value!r}") from None

    def overlap_minutes(self) -> int:
        """Minutes re-read before the high-water mark: records saved late at the boundary are not missed."""
        return self.number("overlap_minutes", 5)

    def page_size(self, default: int) -> int:
        return self.number("page_size", default) or default


def connector_settings(raw: Mapping[str, Any], systems: Iterable[str]) -> dict[str, ConnectorSettings]:
    """``[connectors]`` of a parsed leadjourney.toml: one settings object per configured system."""
    section = raw.get("connectors", {})
    known = tuple(systems)
    if not isinstance(section, Mapping):
        raise ConfigError(f"{CONFIG_FILE}: connectors: expected tables such as [connectors.salesforce]")
    out: dict[str, ConnectorSettings] = {}
    for system, options in section.items():
        if system not in known:
            raise ConfigError(f"{CONFIG_FILE}: connectors.{system}: unknown system; expected one of {', '.join(known)}")
        if not isinstance(options, Mapping):
            raise ConfigError(f"{CONFIG_FILE}: connectors.{system}: expected a table of options")
        out[system] = ConnectorSettings(system, dict(options))
    return out
