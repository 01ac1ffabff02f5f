"""Issue 16, web ingest at scale: GA4's export is staged with only the events the web journey keeps (page
views, form and login events), its rows still counted over the whole file; a source that takes its events
from another column gets every row. The hand-made export of tests/test_web_journey.py (real GA4 columns and
nesting) in a real in-memory DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from leadjourney.config import Source
from leadjourney.errors import BadFileError
from leadjourney.ingest.ga4_export import WEB_EVENTS, stage_ga4_export

EXPORT = Path(__file__).parent / "data" / "web" / "ga4_events_20240301.ndjson"


def _events() -> list[str]:
    return [json.loads(line)["event_name"] for line in EXPORT.read_text().splitlines()]


def test_only_the_kept_events_are_staged_and_every_row_is_counted() -> None:
    con = duckdb.connect()
    raw = stage_ga4_export(con, "raw", EXPORT, Source("ga4", str(EXPORT), "ga4_bigquery"))
    events = _events()
    assert raw.rows_read == len(events)
    staged = con.execute('SELECT event_name, "__row" FROM raw ORDER BY "__row"').fetchall()
    kept = [(e, i) for i, e in enumerate(events, 1) if e in WEB_EVENTS]
    assert staged == kept and len(kept) < len(events)  # the export has scrolls and session starts


def test_a_source_mapping_its_events_elsewhere_stages_every_row() -> None:
    con = duckdb.connect()
    source = Source("ga4", str(EXPORT), "ga4_bigquery", columns={"event": "page_location"})
    raw = stage_ga4_export(con, "raw", EXPORT, source)
    assert raw.rows_read == len(_events())
    assert con.execute("SELECT list(event_name ORDER BY __row) FROM raw").fetchone() == (_events(),)


def test_an_export_without_event_names_is_named_though_nothing_would_be_staged(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in EXPORT.read_text().splitlines()]
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "event_name"}) + "\n" for r in rows))
    with pytest.raises(BadFileError, match=r"events\.ndjson: not a GA4 BigQuery export: missing event_name in every"):
        stage_ga4_export(duckdb.connect(), "raw", path, Source("ga4", str(path), "ga4_bigquery"))


def test_a_parameter_given_twice_is_read_from_its_first_record(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in EXPORT.read_text().splitlines()]
    view = next(r for r in rows if r["event_name"] == "page_view")
    first = next(p["value"]["string_value"] for p in view["event_params"] if p["key"] == "page_location")
    view["event_params"].append({"key": "page_location", "value": {"string_value": "https://other.example/x",
                                                                   "int_value": None, "float_value": None,
                                                                   "double_value": None}})
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps(view) + "\n")
    con = duckdb.connect()
    stage_ga4_export(con, "raw", path, Source("ga4", str(path), "ga4_bigquery"))
    (page,) = con.execute("SELECT page_location FROM raw").fetchone() or (None,)
    assert page is not None and page.split("?")[0] == first.split("?")[0] and "other.example" not in page


@pytest.mark.parametrize(("url", "cleaned"), [
    ("https://x.io/a", "https://x.io/a"),  # no '#', '%' nor '?': only trimmed
    ("  https://x.io/a  ", "https://x.io/a"),
    ("   ", None),
    (None, None),
    ("https://x.io/a#top", "https://x.io/a"),
    ("https://x.io/j%40x.io/b", "https://x.io/j@x.io/b"),  # no '?' but a '%'
    ("https://x.io/j%2540x.io", "https://x.io/j@x.io"),
    ("https://x.io/a?email=j%40x.io&utm_source=li#top", "https://x.io/a?utm_source=li"),
    ("https://x.io/a?ref=hn", "https://x.io/a"),
    ("https://x.io/a?UTM_Medium=cpc&x=1&utm_campaign=b", "https://x.io/a?UTM_Medium=cpc&utm_campaign=b"),
    ("https://x.io/a?", "https://x.io/a"),
    ("#only", ""),
])
def test_urls_lose_their_query_string_but_utm_tags_on_each_path(url: str | None, cleaned: str | None) -> None:
    from leadjourney.ingest.urls import clean_url_sql, url_query_cleaned_sql, url_unfragmented_sql

    con = duckdb.connect()
    one = con.execute(f"SELECT {clean_url_sql('$1::VARCHAR')}", [url]).fetchone()
    layered = con.execute(f"SELECT {url_query_cleaned_sql('u')} FROM (SELECT {url_unfragmented_sql('$1::VARCHAR')} AS u)",
                          [url]).fetchone()
    assert one is not None and layered is not None
    assert one[0] == layered[0] == cleaned


def test_a_parquet_exports_event_time_is_staged_as_its_whole_number_and_read_as_the_same_instant(tmp_path: Path) -> None:
    from leadjourney.ingest.ga4_export import event_time_sql

    out = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1709287201000123 AS event_timestamp, 'page_view' AS event_name, 'v1' AS user_pseudo_id) "
                f"TO '{out}' (FORMAT parquet)")
    stage_ga4_export(con, "raw", out)
    json_con = duckdb.connect()
    stage_ga4_export(json_con, "raw", EXPORT)
    assert con.execute("SELECT typeof(event_timestamp) FROM raw").fetchone() == ("BIGINT",)
    assert json_con.execute("SELECT DISTINCT typeof(event_timestamp) FROM raw").fetchall() == [("VARCHAR",)]
    as_number = con.execute(f"SELECT {event_time_sql('event_timestamp', 'BIGINT')} FROM raw").fetchone()
    as_text = con.execute(f"SELECT {event_time_sql(repr(' 1709287201000123 '))}").fetchone()
    assert as_number is not None and as_number == as_text
    assert as_number[0].isoformat() == "2024-03-01T10:00:01.000123+00:00"
