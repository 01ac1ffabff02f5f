"""Case without the engine's own rules: DuckDB's lower() as a map, and RE2's (?i) as a case-sensitive pattern
(src/leadjourney/casefold.py), which Spark and Postgres read alike (tests/test_engines.py, tests/test_warehouse.py)."""

from __future__ import annotations

import duckdb
import pytest

from leadjourney.casefold import any_case, case_insensitive, orbit

# job titles as CRMs hold them (capitals, accents, Greek, Turkish, the long s, the Kelvin sign, a titlecase digraph)
TITLES = ["GESCHÄFTSFÜHRER", "Geschäftsführer", "DIRECTEUR GÉNÉRAL", "directeur général", "İSTANBUL MÜDÜRÜ",
          "istanbul müdürü", "\u0131stanbul", "Straße", "STRASSE", "\u017fales lead", "SALES LEAD", "\u212aey account",
          "ΔΙΕΥΘΥΝΤΗΣ", "διευθυντης", "Jefe de Área", "JEFE DE ÁREA", "ǅemal", "ǄEMAL", "VP, Sales", "vp sales",
          "Head of Marketing (EMEA)", "CMO", "cmo", "Chief Marketing Officer", "Sales-Ops [EU]", "a]b", "x-y", ""]
PATTERNS = ["geschäftsführer", "directeur général", "istanbul", "straße", "sales", "key account", "διευθυντησ",
            "área", "ǆemal", r"\bcmo\b", "vp.*sales|head of (sales|marketing)", "^chief", "[a-c]mo", "[^a-z ]",
            "sales-ops \\[eu\\]", "[]a]b", "x[-]y", r"\d+|officer$", "(?:jefe|head) de", "[a-z]{3} of",
            "emea\\)"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_any_case_matches_what_re2s_case_insensitive_flag_matches(pattern: str) -> None:
    rewritten = any_case(pattern)
    assert rewritten is not None and "(?i)" not in rewritten
    con = duckdb.connect()
    for title in TITLES:
        expected = con.execute("SELECT regexp_matches(?, ?)", [title, f"(?i){pattern}"]).fetchall()
        found = con.execute("SELECT regexp_matches(?, ?)", [title, rewritten]).fetchall()
        assert found == expected, (title, pattern, rewritten)


def test_orbits_are_re2s() -> None:
    assert (orbit("s"), orbit("k"), orbit("\u03c3"), orbit("1")) == ("Ss\u017f", "Kk\u212a", "\u03a3\u03c2\u03c3", "1")


def test_inline_flags_are_left_to_the_engine() -> None:
    assert any_case("(?s)a.b") is None and any_case("[ab") is None
    assert case_insensitive("(?s)a.b") == "(?i)(?s)a.b" and case_insensitive("ab") == "[Aa][Bb]"


def test_configured_values_are_lowered_as_the_engine_lowers_data() -> None:
    """An industry rule and a criterion written in capitals (a word-final sigma, a dotted I): the configured value
    is lowered as DuckDB lowers the data it meets, so the very same text matches (Python's lower() gave
    ``ναυτιλιας`` and ``i̇stanbul port``, which the data lowered never equals)."""
    import ibis

    from leadjourney.config import Persona
    from leadjourney.criteria import parse_criterion
    from leadjourney.ingest.persona_rules import persona_column

    leads = ibis.memtable({"job_title": ["a", "b", "c"], "industry": ["ΝΑΥΤΙΛΙΑΣ", "İstanbul Port", "Retail"],
                           "employee_count": [1, 2, 3]})
    personas = (Persona("Shipping", industries=("ΝΑΥΤΙΛΙΑΣ", "İSTANBUL PORT")),)
    found = leads.select(p=persona_column(leads, personas)).to_pyarrow().column("p").to_pylist()
    assert found == ["Shipping", "Shipping", "unassigned"]
    assert parse_criterion('industry = "ΝΑΥΤΙΛΙΑΣ"').values == ("ναυτιλιασ",)
