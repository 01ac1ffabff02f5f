"""sql_store: a saved analysis keeps its queries' compiled SQL in the workspace, so the next process runs it
without compiling; the key is the whole expression, so a changed selection or option never reads stale SQL."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pytest
from ibis.backends.duckdb import Backend

from conftest import SharedGenerated, copy_workspace, same_numbers
from leadjourney import engine, sql_store
from leadjourney.workflows import analyze, select


def _people() -> ibis.Table:
    return ibis.table({"person_id": "string", "source": "string", "created_at": "timestamp"}, name="people")


def test_equal_expressions_built_apart_have_one_key_and_any_difference_another() -> None:
    def query(source: str, days: int) -> ibis.Table:
        p = _people()
        recent = p.filter((p.source == source) & (p.created_at > ibis.now() - ibis.interval(days=days)))
        return recent.group_by("source").aggregate(n=recent.count(), first=recent.created_at.min())

    key = sql_store.fingerprint(query("seo", 30).op())
    assert key == sql_store.fingerprint(query("seo", 30).op())
    assert key != sql_store.fingerprint(query("paid_search", 30).op())  # a selection's value
    assert key != sql_store.fingerprint(query("seo", 31).op())  # an option's value
    renamed = ibis.table({"person_id": "string", "source": "string", "created_at": "timestamp"}, name="people_2")
    assert key != sql_store.fingerprint(renamed.group_by("source").aggregate(n=renamed.count()).op())
    with pytest.raises(sql_store.Unkeyable):  # an in-memory table is registered per connection: never stored
        sql_store.fingerprint(_people().join(ibis.memtable({"source": ["seo"]}), "source").op())


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_a_second_process_runs_a_saved_analysis_from_the_stored_sql(shared_generated: SharedGenerated, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ws = copy_workspace(shared_generated(n_leads=2000, seed=3)[0], tmp_path / "ws")
    compiled: list[str] = []
    compile_sql = Backend.compile

    def counted(self: Backend, *args: object, **kwargs: object) -> str:
        compiled.append(sql := compile_sql(self, *args, **kwargs))
        return sql

    monkeypatch.setattr(Backend, "compile", counted)  # a spy: every query still compiled by Ibis itself
    engine.forget_compiled()
    first = analyze(ws, save=True).analysis.to_dict()
    stored = json.loads(next((ws.root / sql_store.CACHE_DIR).glob("compiled-*.json")).read_text())
    assert len(stored) > 20 and set(stored.values()) <= set(compiled)

    engine.forget_compiled()  # what a new process starts with
    sql_store._STORES.clear()
    compiled.clear()
    second = analyze(ws, save=True).analysis.to_dict()
    assert len(compiled) <= 1 < len(stored)  # at most the one query naming the clock time (the as-of bound)
    first.pop("computed_at"), second.pop("computed_at")
    assert same_numbers(first, second)

    engine.forget_compiled()  # another selection: its own queries, compiled and added
    seo = analyze(ws, select(ws, sources=["seo"]), save=True).analysis
    assert compiled and seo.n_people < first["n_people"]
    assert len(json.loads(next((ws.root / sql_store.CACHE_DIR).glob("compiled-*.json")).read_text())) > len(stored)


def test_an_unsaved_analysis_leaves_the_workspace_as_it_was(shared_generated: SharedGenerated) -> None:
    ws = shared_generated(n_leads=2000, seed=3)[0]
    analyze(ws)
    assert not (ws.root / sql_store.CACHE_DIR).exists()


def test_a_damaged_store_is_read_as_empty_and_a_failed_run_stores_nothing(tmp_path: Path) -> None:
    folder = tmp_path / sql_store.CACHE_DIR
    folder.mkdir()
    for text in ("{not json", "[1, 2]", json.dumps({"k": 3})):
        for old in folder.iterdir():
            old.unlink()
        with sql_store.stored_sql(tmp_path) as store:
            (store.path).write_text(text)
        sql_store._STORES.clear()
        with sql_store.stored_sql(tmp_path) as store:
            assert store.get("k") is None
    sql_store._STORES.clear()
    with pytest.raises(KeyboardInterrupt), sql_store.stored_sql(tmp_path) as store:
        store.put("key", "SELECT 1")
        raise KeyboardInterrupt
    assert "key" not in sql_store._read(store.path)
