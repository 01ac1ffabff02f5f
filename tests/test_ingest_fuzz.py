"""Property tests: good lead rows survive any malformed lines around them, with their own row numbers.

A file is a list of records: good rows (written with the csv module, so values may hold commas,
quotes and newlines) and malformed lines inserted at random places. Row numbers are what a
spreadsheet shows: the header is row 1 and each record, or blank line, is one more row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import fetch
from leadjourney.config import default_config_text, parse_config
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

HEADER = ["lead_id", "created_at", "source", "company", "job_title", "country"]
CREATED = {
    "2024-01-15 10:00": datetime(2024, 1, 15, 10, 0),
    "2024-06-01T08:30:00Z": datetime(2024, 6, 1, 8, 30),
    "3/5/2024, 2:22 PM": datetime(2024, 3, 5, 14, 22),
    "2024-02-29": datetime(2024, 2, 29),
}
# [missing] placeholders: values such as "-" or "None" are stored as missing
PLACEHOLDERS = frozenset(parse_config(default_config_text()).placeholders_for("company"))


def _text(value: str) -> str | None:
    return None if not value or value.strip().lower() in PLACEHOLDERS else value


SOURCES = {
    "Organic Search": "seo",
    "PPC": "paid_search",
    "Webinar": "events",
    "": None,
    "Carrier Pigeon": "carrier pigeon",
}

# values: any printable text plus the characters CSV has to quote; no edge whitespace (it is trimmed)
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp"))
_TEXT = st.text(st.one_of(_CHARS, st.sampled_from([",", '"', "\n", " "])), max_size=20).map(
    lambda s: s.strip(" \n")
)
_PLAIN = st.text(st.one_of(_CHARS.filter(lambda c: c not in ',"'), st.just(" ")), max_size=20).map(
    lambda s: s.strip(" ")
)  # nothing CSV has to quote
_LONG = st.integers(500, 3_000).map(lambda n: "Long Test Company " * n + "End")
VALUE = st.integers(0, 14).flatmap(lambda k: _LONG if k == 0 else _TEXT)

# junk: valid UTF-8 without letters, digits, quotes or line breaks (so it is never a good row)
_JUNK_CHARS = st.one_of(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc", "Zl", "Zp", "Lu", "Ll", "Lt", "Lo", "Nd"),
        exclude_characters='"\ufeff',
    ),
    st.sampled_from(list(",;|€ß✓中😀é ")),
)


def _loads(line: str) -> bool:
    """Whether a junk line is a lead all the same: six fields, an id, no created date (it loads undated)."""
    fields = line.split(",")
    return len(fields) == len(HEADER) and bool(fields[0].strip()) and _text(fields[1]) is None


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}...<{len(text)} chars>"


@dataclass(frozen=True, repr=False)
class Good:
    lead_id: str
    created_at: str
    source: str
    company: str
    job_title: str
    country: str

    def line(self) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            [self.lead_id, self.created_at, self.source, self.company, self.job_title, self.country]
        )
        return buf.getvalue()[:-1]

    def expected(self, row: int) -> tuple[object, ...]:
        return (
            CREATED[self.created_at],
            SOURCES[self.source],
            _text(self.company),
            _text(self.job_title),
            _text(self.country),
            row,
        )

    def __repr__(self) -> str:
        values = (
            self.lead_id,
            self.created_at,
            self.source,
            self.company,
            self.job_title,
            self.country,
        )
        return f"Good({', '.join(map(_short, values))})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how Hypothesis prints examples
        printer.text(repr(self))


@dataclass(frozen=True, repr=False)
class Bad:
    kind: str
    line: str

    def __repr__(self) -> str:
        return f"Bad({self.kind!r}, {_short(self.line)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _fields(n: int) -> st.SearchStrategy[str]:
    return st.lists(
        st.sampled_from(["X9", "2024-01-01", "seo", "Acme Test", "CTO", "US", ""]),
        min_size=n,
        max_size=n,
    ).map(",".join)


BAD_LINES: dict[str, st.SearchStrategy[str]] = {
    "too_many": st.integers(7, 12).flatmap(_fields),
    "too_few": st.integers(1, 5).flatmap(_fields).filter(bool),
    "junk": st.text(_JUNK_CHARS, min_size=1, max_size=40).filter(lambda s: s.strip(" ") != "" and not _loads(s)),
    # (with spaces: one unbroken 100k-character token is test_ingest_quarantine's long-token test)
    "long": st.integers(1_000, 4_000).map(lambda n: "Long junk line " * n),
    "blank": st.just(""),
    "stray_quote": st.sampled_from(
        [
            'X8,"2024-01-01,seo,Acme Test,CTO,US',  # opens a quoted field it never closes
            'X8,2024-01-01,seo,"Acme Test,CTO,US',
            'X8,2024-01-01,seo,Acme Test,CTO,"US',
        ]
    ),
}


@st.composite
def records(
    draw: st.DrawFn, kinds: tuple[str, ...], prefix: str, isolated: bool = False
) -> list[Good | Bad]:
    """Good rows with malformed lines inserted; ``isolated``: plain good rows, no two bad lines adjacent."""
    n_good = draw(st.integers(1, 12))
    created = sorted(c for c in CREATED if not (isolated and "," in c))
    text = _PLAIN if isolated else _TEXT
    out: list[Good | Bad] = [
        Good(
            f"{prefix}{i:04d}",
            draw(st.sampled_from(created)),
            draw(st.sampled_from(sorted(SOURCES))),
            draw(text if isolated else VALUE),
            draw(text),
            draw(text),
        )
        for i in range(n_good)
    ]
    if isolated:
        gaps = draw(st.lists(st.integers(0, n_good), max_size=4, unique=True))
        for gap in sorted(gaps, reverse=True):
            kind = draw(st.sampled_from(kinds))
            out.insert(gap, Bad(kind, draw(BAD_LINES[kind])))
        return out
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds))
        out.insert(draw(st.integers(0, len(out))), Bad(kind, draw(BAD_LINES[kind])))
    return out


FILES = ("A", "B", "C")  # several files per ingest: one ingest's fixed cost covers three examples


def _check(ws: Workspace, files: tuple[list[Good | Bad], ...], strict: bool = True) -> None:
    for name, items in zip(FILES, files, strict=True):
        lines = [",".join(HEADER)] + [r.line() if isinstance(r, Good) else r.line for r in items]
        (ws.root / f"{name}.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    # a header row and UTF-8 text: each file loads (no BadFileError), whatever the lines below the header
    report = ingest(ws, force=True)
    assert [(s.name, s.status) for s in report.sources] == [(name, "loaded") for name in FILES]
    for source, items in zip(report.sources, files, strict=True):
        loaded = (
            _check_file(ws, source.name, items, source.rows_read)
            if strict
            else _check_file_loosely(ws, source.name, items)
        )
        assert source.rows_loaded.get("leads", 0) == loaded, source  # the report counts what is stored


def _check_file(ws: Workspace, origin: str, items: list[Good | Bad], rows_read: int) -> int:
    """Check one file's rows in the database; return how many leads it loaded."""
    loaded = {
        r[0]: r[1:]
        for r in fetch(
            ws,
            "SELECT lead_id, created_at, source, company, job_title, country, source_row FROM leads "
            "WHERE origin = ?",
            [origin],
        )
    }
    quarantined = {
        r[0] for r in fetch(ws, "SELECT source_row FROM quarantine WHERE origin = ?", [origin])
    }
    good_ids = {r.lead_id for r in items if isinstance(r, Good)}
    assert set(loaded) <= good_ids
    for i, item in enumerate(items):
        row = i + 2
        if isinstance(item, Bad):
            if item.kind != "blank":
                assert row in quarantined, (
                    f"{origin}: malformed line on row {row} ({item.kind}) not in quarantine"
                )
            continue
        near_bad = any(isinstance(items[j], Bad) for j in (i - 1, i + 1) if 0 <= j < len(items))
        if item.lead_id in loaded:
            assert loaded[item.lead_id] == item.expected(row), origin
        else:
            assert near_bad, (
                f"{origin}: row {row} ({item.lead_id}) is not next to a malformed line, not loaded"
            )
            assert row in quarantined, (
                f"{origin}: row {row} ({item.lead_id}) was neither loaded nor quarantined"
            )
    records = sum(1 for r in items if not (isinstance(r, Bad) and r.kind == "blank"))
    if records == len(items):
        assert rows_read == records
    return len(loaded)


def _check_file_loosely(ws: Workspace, origin: str, items: list[Good | Bad]) -> int:
    """For inputs a spreadsheet could read more than one way (quotes pairing across lines); returns how
    many leads the file loaded.

    Values are still exact and rows away from malformed lines still load; row numbers only have
    to keep the file's order and never exceed the one-line-per-record numbering (records merge,
    they do not split).
    """
    loaded = {
        r[0]: r[1:]
        for r in fetch(
            ws,
            "SELECT lead_id, created_at, source, company, job_title, country, source_row FROM leads "
            "WHERE origin = ?",
            [origin],
        )
    }
    assert set(loaded) <= {r.lead_id for r in items if isinstance(r, Good)}
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, Good):
            continue
        near_bad = any(isinstance(items[j], Bad) for j in (i - 1, i + 1) if 0 <= j < len(items))
        if item.lead_id in loaded:
            got = loaded[item.lead_id]
            assert got[:-1] == item.expected(i + 2)[:-1], origin
            assert got[-1] <= i + 2, (origin, item.lead_id)
            rows.append(got[-1])
        else:
            assert near_bad, (
                f"{origin}: {item.lead_id} is not next to a malformed line but was not loaded"
            )
    assert rows == sorted(set(rows))
    return len(loaded)


def _property(
    kinds: tuple[str, ...],
    examples: int,
    shrink: bool,
    *,
    isolated: bool = False,
    strict: bool = True,
) -> Callable[[Workspace], None]:
    phases = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if shrink else ())

    def run(ws: Workspace) -> None:
        ws.set_sources(
            [{"name": n, "path": f"{n}.csv", "format": "csv", "table": "leads"} for n in FILES]
        )

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=phases,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.large_base_example,
            ],
        )
        @given(st.tuples(*(records(kinds, name, isolated) for name in FILES)))
        def prop(files: tuple[list[Good | Bad], ...]) -> None:
            _check(ws, files, strict)

        prop()

    return run


@pytest.mark.slow  # 30 generated files ingested: make test-integration runs it
def test_good_rows_survive_malformed_lines(ws: Workspace) -> None:
    _property(("too_many", "too_few", "junk", "long"), examples=10, shrink=True)(ws)  # 30 files


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_blank_lines_keep_row_numbers(ws: Workspace) -> None:
    _property(("blank", "too_many"), examples=4, shrink=True)(ws)


@pytest.mark.slow  # make test-integration runs it
def test_stray_quotes_do_not_swallow_good_rows(ws: Workspace) -> None:
    """A line with a quote it never closes, between plain rows: only that line is set aside."""
    _property(("stray_quote", "too_few", "junk"), examples=5, shrink=True, isolated=True)(ws)


@pytest.mark.slow  # make test-integration runs it
def test_any_mix_of_malformed_lines(ws: Workspace) -> None:
    """Stray quotes next to other malformed lines may pair up across lines: a looser property."""
    kinds = ("stray_quote", "too_many", "too_few", "junk", "long", "blank")
    _property(kinds, examples=5, shrink=True, strict=False)(ws)


def test_fuzz_file_round_trip_sanity(tmp_path: Path) -> None:
    """The generator's good rows are what the csv module reads back (guards the test itself)."""
    good = Good("G0001", "2024-02-29", "PPC", 'Acme, "Test"\nCo', "CTO", "")
    (tmp_path / "f.csv").write_text(",".join(HEADER) + "\n" + good.line() + "\n")
    with (tmp_path / "f.csv").open(newline="") as fh:
        assert list(csv.reader(fh))[1] == [
            "G0001",
            "2024-02-29",
            "PPC",
            'Acme, "Test"\nCo',
            "CTO",
            "",
        ]
    assert good.expected(2) == (
        datetime(2024, 2, 29),
        "paid_search",
        'Acme, "Test"\nCo',
        "CTO",
        None,
        2,
    )
