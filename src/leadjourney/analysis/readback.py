"""Results read back from their JSON form: the helpers every result's ``from_dict`` uses.

Each result's ``from_dict`` is the exact inverse of its ``to_dict`` (``X.from_dict(x.to_dict()) == x``),
and reads JSON stored by older versions too: a field a result gained later (``projected``, ``status``,
``stages_without_data``, ...) takes its default when the JSON has no key for it. Keys ``to_dict`` derives
(``dropped``, ``text``, ``scale``, ...) are not read: the result derives them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def build(cls: type[T], d: Mapping[str, Any], **given: Any) -> T:
    """``cls`` (a dataclass) from the keys of ``d`` that name its fields; ``given`` wins over ``d``, and a field
    neither has keeps its default."""
    names = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in d.items() if k in names and k not in given}, **given)


def moment(value: str | None) -> datetime | None:
    """A timestamp as ``to_dict`` writes it (ISO 8601), or None."""
    return None if value is None else datetime.fromisoformat(value)


def pair(value: Any) -> tuple[float, float] | None:
    """An interval as ``to_dict`` writes it (a list of two), as the tuple the result holds."""
    return None if value is None else (value[0], value[1])
