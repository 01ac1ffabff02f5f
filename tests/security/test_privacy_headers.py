"""Personal data under other headers and inside free text never reaches the workspace's database.

Hand-made exports with English, German, French, Spanish and Portuguese headers are ingested through
the CLI; then every text value of every table of the DuckDB file is scanned.
"""

from __future__ import annotations

import hashlib
import json
import re

import duckdb
import pytest

from conftest import csv_text, run_cli, text_values
from leadjourney.ingest.personal import (
    is_email_column,
    is_personal_column,
    scrub_text,
    scrub_text_sql,
)
from leadjourney.ingest.sql import lit
from leadjourney.workspace import SALT_KEY, Workspace

NOTE = "call me at +49 170 1234567 or jan@example.de"
# (header -> value) per language; "Notes" and the non-personal columns are the same in every file
FILES: dict[str, dict[str, str]] = {
    "en": {"E-Mail Address": "jan.kowalski@example.de", "Contact Person": "Jan Kowalski",
           "First Name": "Janusz", "Last Name": "Kowalczyk", "Cell": "+44 7700 900123",
           "Phone Number": "(030) 5550123", "Tel.": "0170-7654321", "Street Address": "12 Baker Street",
           "Postcode": "NW1 6XE", "Date of Birth": "1980-04-01", "IP Address": "203.0.113.7"},
    "de": {"E-Mail-Adresse": "anna.schmidt@example.de", "Vorname": "Annegret", "Nachname": "Schmidtke",
           "Ansprechpartner": "Annegret Schmidtke", "Telefon": "030 98765432", "Handy": "0151 23456789",
           "Straße": "Hauptstraße 5", "PLZ": "10115", "Geburtsdatum": "01.04.1980"},
    "fr": {"Adresse e-mail": "marie.curie@example.fr", "Prénom": "Marielle", "Nom": "Curiesse",
           "Téléphone": "+33 6 12 34 56 78", "Portable": "06 98 76 54 32", "Adresse": "12 rue Lepic",
           "Code postal": "69001"},
    "es": {"Correo electrónico": "jose.garcia@example.es", "Nombre": "Josefino", "Apellido": "Garciaz",
           "Teléfono": "+34 612 345 678", "Móvil": "+34 699 111 222", "Dirección": "Calle Mayor 7",
           "Código postal": "28013"},
    "pt": {"Endereço de e-mail": "joao.silva@example.pt", "Nome": "Joaquim", "Sobrenome": "Silveirinha",
           "Telefone": "+351 912 345 678", "Celular": "+55 11 91234-5678", "Endereço": "Rua Augusta 100",
           "CEP": "01310-100"},
}
# non-personal columns and values that must survive as written
KEPT = {
    "City": "Berlin",
    "Region": "Bavaria",
    "Nombre de salariés": "250",
    "Deal Size": "12,500.00",
    "Campaign Ref": "00Q5e000001AbCd",
    "Visit Day": "2024-03-05",
}
NON_PERSONAL_NOTES = [
    "met on 2024-03-05 14:30, follow-up 05.03.2024",
    "budget 12,500.00 EUR (1.250.000,00 over 5 years), 12 500 000 total",
    "ref 00Q5e000001AbCd, order 00012345678, call back on 2024-03-05",
]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace with one file per language ingested through the CLI (read-only for the tests)."""
    root = tmp_path_factory.mktemp("privacy") / "ws"
    assert run_cli("init", str(root)).returncode == 0
    for lang, personal in FILES.items():
        header = ["lead_id", "created_at", "source", "company", "disqualify_reason", *personal, *KEPT, "Notes"]
        rows = [[f"{lang}-1", "2024-03-05", "seo", "Acme GmbH", "", *personal.values(), *KEPT.values(), NOTE]]
        rows += [[f"{lang}-{i + 2}", "2024-03-06", "ppc", "Beta SA", "", *([""] * len(personal)), *KEPT.values(), note]
                 for i, note in enumerate(NON_PERSONAL_NOTES)]
        # a free-text canonical column, and a row quarantined for its created date: its record keeps Notes
        rows.append([f"{lang}-9", "2024-03-07", "seo", "Gamma", f"asked to mail {next(iter(personal.values()))}",
                     *([""] * len(personal)), *KEPT.values(), NOTE])
        rows.append([f"{lang}-10", "not a date", "seo", "Delta", "", *personal.values(), *KEPT.values(), NOTE])
        if lang == "en":  # a malformed row (one field too many): quarantined as text, its free text masked
            rows.append([f"{lang}-11", "2024-03-08", "seo", NOTE, "", *personal.values(), *KEPT.values(), NOTE, "1"])
        (root / f"{lang}.csv").write_text(csv_text(header, rows), "utf-8")
    Workspace.open(root).set_sources(
        [{"name": lang, "path": f"{lang}.csv", "format": "csv", "table": "leads"} for lang in FILES])
    proc = run_cli("ingest", str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Workspace.open(root)


def _needles() -> set[str]:
    """Every personal value written, as written and without spaces, plus the note's e-mail and phone."""
    out = {"jan@example.de", "+49 170 1234567", "+491701234567"}
    for personal in FILES.values():
        for value in personal.values():
            out |= {value, value.replace(" ", "")}
            out |= {part for part in value.split() if len(part) > 4 and not part.isdigit()}  # Kowalski, Hauptstraße
    return out - {"Street", "Calle", "Mayor"}  # words of an address that are not personal alone


@pytest.mark.databases_closed  # the file is read with its own DuckDB connection
def test_no_personal_value_anywhere_in_the_database(ingested: Workspace) -> None:
    ws = ingested
    needles = _needles()
    assert len(needles) > 60
    hexes = re.compile(r"^[0-9a-f]{32,}$")  # hashes and the salt: random letters, not data
    leaks = [(t, c, n) for t, c, v in text_values(ws) if not hexes.match(v)
             for n in needles if n.lower() in v.lower()]
    assert leaks == []
    with duckdb.connect(str(ws.database_path), read_only=True) as con:
        tables = {str(r[0]) for r in con.execute("SHOW TABLES").fetchall()}
        records = [str(r[0]) for r in con.execute("SELECT record FROM quarantine WHERE record IS NOT NULL").fetchall()]
    assert {"leads", "quarantine"} <= tables
    assert len(records) == len(FILES) and all("[phone] or [email]" in r for r in records)
    malformed = [v for t, c, v in text_values(ws) if t == "quarantine" and c == "value" and "en-11" in v]
    assert len(malformed) == 1 and malformed[0].startswith("en-11,2024-03-08,seo,call me at [phone] or [email],")


@pytest.mark.databases_closed  # the file is read with its own DuckDB connection
def test_email_headers_feed_the_email_hash(ingested: Workspace) -> None:
    ws = ingested
    salt = ws.meta(SALT_KEY) or ""
    with duckdb.connect(str(ws.database_path), read_only=True) as con:
        hashes = dict(con.execute("SELECT lead_id, email_hash FROM leads WHERE lead_id LIKE '%-1'").fetchall())
        emails = con.execute("SELECT count(*) FROM leads WHERE email IS NOT NULL").fetchall()[0][0]
    for lang, personal in FILES.items():
        address = next(v for h, v in personal.items() if is_email_column(h))
        assert hashes[f"{lang}-1"] == hashlib.sha256((salt + address.lower()).encode()).hexdigest(), lang
    assert emails == 0  # kept only as the hash by default


def test_non_personal_values_survive_and_free_text_is_masked(ingested: Workspace) -> None:
    ws = ingested
    with duckdb.connect(str(ws.database_path), read_only=True) as con:
        rows = con.execute("SELECT lead_id, extra, disqualify_reason, company FROM leads").fetchall()
    by_id = {str(r[0]): (json.loads(r[1]), r[2], r[3]) for r in rows}
    for lang in FILES:
        extra, _, company = by_id[f"{lang}-1"]
        assert extra == {**KEPT, "Notes": "call me at [phone] or [email]"}  # no personal column kept
        assert company == "Acme GmbH"
        for i, note in enumerate(NON_PERSONAL_NOTES):
            assert by_id[f"{lang}-{i + 2}"][0]["Notes"] == note  # dates, amounts and ids untouched
        assert by_id[f"{lang}-9"][1] == "asked to mail [email]"


PHONES = ["+49 170 1234567", "+1 (555) 010-0199", "0170 1234567", "06 12 34 56 78", "06.12.34.56.78",
          "030/1234567", "(030) 1234567", "555-010-0199", "0049 170 1234567", "+351 912 345 678"]
NOT_PHONES = ["2024-03-05", "2024-03-05 14:30:00", "2024-03-05T14:30:00Z", "05.03.2024 14.30 Uhr",
              "05/03/2024, 10/03/2024", "2024-03-05 - 2024-03-06", "12,500.00", "1.250.000,00", "12 500 000",
              "125 000 000", "+12,500.00", "00Q5e000001AbCd", "00012345678", "id 123456789012", "Q1 2024: 12500",
              "v1.2.3", "10115 Berlin", "Order #12345678", "5.3%", "call 2024-03-05", "0-100"]


@pytest.mark.parametrize("text", PHONES)
def test_phone_numbers_are_masked(text: str) -> None:
    assert scrub_text(f"reach me: {text} (evenings)") == "reach me: [phone] (evenings)"
    assert scrub_text(f"tel {text.replace(' ', '')}") == "tel [phone]"


@pytest.mark.parametrize("text", NOT_PHONES)
def test_dates_amounts_and_ids_are_not_phone_numbers(text: str) -> None:
    assert scrub_text(text) == text


def test_duckdb_masks_as_python_does() -> None:
    samples = [*PHONES, *NOT_PHONES, NOTE, "mail a.b+crm@mail.example.co.uk!", "x" * 5000, "1" * 5000]
    with duckdb.connect() as con:
        for text in samples:
            assert con.execute(f"SELECT {scrub_text_sql(lit(text))}").fetchall()[0][0] == scrub_text(text), text


PERSONAL_HEADERS = [
    "Name", "First Name", "Last Name", "Full Name", "Contact Person", "Vorname", "Nachname", "Ansprechpartner",
    "Prénom", "Nom", "Nombre", "Apellido", "Nome", "Sobrenome", "FirstName", "Nombre de contacto",
    "Email", "E-Mail", "E-Mail Address", "Email Address", "E-Mail-Adresse", "Courriel", "Adresse e-mail",
    "Correo", "Correo electrónico", "Endereço de e-mail",
    "Phone", "Mobile", "Cell", "Telephone", "Tel.", "Telefon", "Handy", "Mobil", "Téléphone", "Portable",
    "Teléfono", "Móvil", "Celular", "Telefone", "MobilePhone", "Telefonnummer", "Tel.-Nr.",
    "Address", "Street", "Postcode", "Zip", "PLZ", "STRASSE", "Straße", "Adresse", "Code postal", "Código postal",
    "CEP", "Dirección", "Endereço", "Birth Date", "Geburtsdatum", "Date de naissance", "Fecha de nacimiento",
    "Data de nascimento", "IP Address", "ip_address",
]
KEPT_HEADERS = ["City", "Stadt", "Ville", "Ciudad", "Cidade", "Region", "State", "Country", "País", "Company Name",
                "Nombre de la empresa", "Nome da empresa", "Nom de l'entreprise", "Campaign Name", "Nombre de salariés",
                "Industry", "Notes", "Job Title", "Comments", "Cancellation reason"]


@pytest.mark.parametrize("header", PERSONAL_HEADERS)
def test_personal_headers_are_recognised(header: str) -> None:
    assert is_personal_column(header)


@pytest.mark.parametrize("header", KEPT_HEADERS)
def test_analytic_headers_are_kept(header: str) -> None:
    assert not is_personal_column(header)
