"""``to_arrow()`` and ``to_pandas()`` for every result: one implementation, each result naming its table.

A result's table is the list of records in the attribute its ``table_from`` class variable names (the funnel's
transitions, the friction ranking's rows), or the result itself as one row when it names none. A record is
what its ``to_dict()`` writes (the JSON's field names and status words), with nested records (a status, a
projection) spread into ``parent_child`` columns; lists stay lists. pyarrow and pandas load on first use;
pandas is optional.

>>> from dataclasses import dataclass, field
>>> @dataclass
... class Row:
...     stage: str
...     n: int
>>> @dataclass
... class Counts(Tabular):
...     table_from = "rows"
...     rows: list[Row] = field(default_factory=list)
>>> Counts([Row("MQL", 3), Row("SQL", 1)]).to_arrow().column("n").to_pylist()
[3, 1]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from leadjourney.errors import LeadJourneyError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


KEYS = ("rank", "from", "to", "segment", "source", "stage", "name", "key", "metric")  # first, when present


class Tabular:
    """Mixin: the result's table as Arrow or pandas."""

    table_from: ClassVar[str | None] = None  # the attribute holding the rows; None: the result is one row

    def table_records(self) -> list[dict[str, Any]]:
        """The rows of :meth:`to_arrow`, as flat dictionaries."""
        source: Any = getattr(self, self.table_from) if self.table_from else self
        if isinstance(source, Tabular) and source is not self:
            return source.table_records()
        items = list(source.values() if isinstance(source, Mapping) else source) if self.table_from else [self]
        return [_flat(_record(item)) for item in items]

    def to_arrow(self) -> pa.Table:
        """The table as a :class:`pyarrow.Table`."""
        import pyarrow as pa

        rows = self.table_records()
        names = list(dict.fromkeys(k for row in rows for k in row))
        names = [k for k in KEYS if k in names] + [k for k in names if k not in KEYS]
        columns: dict[str, pa.Array] = {}
        for name in names:
            values = [row.get(name) for row in rows]
            if all(v is None for v in values) and any(k.startswith(f"{name}_") for k in names):
                continue  # a nested record in some rows (spread into name_*), missing in the others
            try:
                columns[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column mixing kinds: as text (JSON for lists)
                columns[name] = pa.array([_text(v) for v in values], pa.string())
        return pa.table(columns)

    def to_pandas(self) -> pd.DataFrame:
        """The table as a :class:`pandas.DataFrame` (needs pandas: ``pip install pandas``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise LeadJourneyError(f"{type(self).__name__}.to_pandas() needs pandas, which is not installed: "
                                   "`pip install pandas`, or use to_arrow()") from None
        return self.to_arrow().to_pandas()


def _record(item: object) -> dict[str, Any]:
    to_dict = getattr(item, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if not f.name.startswith("_")}
    if isinstance(item, Mapping):
        return dict(item)
    return {"value": item}


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = _record(value)
        if isinstance(value, Mapping) and value and all(isinstance(k, str) for k in value):
            out.update(_flat(value, f"{name}_"))
        else:
            out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(_record(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (str, bool, int, float, date)):
        return None if value is None else str(value)
    import json

    return json.dumps(value, default=str)
