"""Personal data in source files: which columns hold it, and masking it inside free text.

Headers are recognised in English, German, French, Spanish and Portuguese after folding case,
accents and punctuation (``E-Mail-Adresse``, ``Téléphone``, ``Tel.``, ``Código postal``).
:func:`is_email_column` finds the column whose value feeds the e-mail hash;
:func:`is_personal_column` the columns never copied into the database by default (names,
e-mails, phones, street addresses and postcodes, birth dates, IP addresses, social profiles).
City, region and country are kept: they are analysed (``country``) and identify no one alone.

Free text that is kept (unmapped columns in ``leads.extra``, quarantine records, mapped text
columns such as ``disqualify_reason``) has e-mail addresses replaced by ``[email]`` and phone
numbers by ``[phone]``: :func:`scrub_text_sql` in DuckDB, :func:`scrub_text` in Python, from the
same patterns. A phone number is one of: ``+`` and 7-15 digits; a number starting with 0 with a
separator and 9-17 digits (``0170 1234567``, ``06 12 34 56 78``); ``(030) 1234567``;
``555-010-0199``; or any 7-15 digits right after a word such as ``tel``, ``phone`` or ``call``.
Dates (``2024-03-05``, ``05.03.2024``), times, amounts (``12,500.00``) and ids
(``00Q5e000001AbCd``, bare digit runs) are not phone numbers.

>>> scrub_text("call me at +49 170 1234567 or jan@example.de")
'call me at [phone] or [email]'
>>> scrub_text("met 05.03.2024 14.30, budget 12,500.00, ref 00Q5e000001AbCd")
'met 05.03.2024 14.30, budget 12,500.00, ref 00Q5e000001AbCd'
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from leadjourney.ingest.sql import lit

EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"

# --- headers ----------------------------------------------------------------------------------------

_EMAIL_WORDS = frozenset({
    "email", "mail", "emailaddress", "emailadresse", "emailadres", "mailadresse", "courriel", "correo",
})
_EMAIL_FILLERS = frozenset({
    "address", "adresse", "adres", "endereco", "direccion", "electronico", "electronique", "eletronico",
    "de", "do", "e", "primary", "work", "business", "contact", "personal",
})
# whole words that name personal data
_PERSONAL_WORDS = frozenset({
    # phones
    "tel", "telnr", "telno", "cell", "cellular", "mobile", "mobil", "mobilnummer", "handy", "handynummer",
    "movil", "celular", "portable", "fax", "faxnummer", "fon", "whatsapp", "sms",
    # addresses
    "zip", "zipcode", "plz", "postleitzahl", "cep", "str", "rue", "calle", "rua", "anschrift", "domicilio",
    "hausnummer", "housenumber", "direccion", "endereco", "morada",
    # other
    "dob", "ip", "ssn", "iban", "passport", "salutation", "anrede", "civilite", "xing", "facebook",
    "instagram",
})
# word parts (also inside compounds: HomePhone, Telefonnummer, Geburtsdatum, EmailAddress)
_PERSONAL_STEMS = (
    "email", "phone", "telefon", "strasse", "street", "address", "adress", "postcode", "postal", "birth",
    "geburt", "naissance", "nacimiento", "nascimento", "linkedin", "twitter",
)
_NAME_WORDS = frozenset({
    "name", "names", "nom", "nombre", "nome", "firstname", "lastname", "fullname", "surname", "givenname",
    "familyname", "middlename", "vorname", "nachname", "prenom", "apellido", "apellidos", "sobrenome",
    "ansprechpartner", "kontaktperson", "contactperson", "interlocuteur",
})
_CONTACT_WORDS = frozenset({
    "contact", "kontakt", "contacto", "contato", "person", "persona", "pessoa", "lead", "client", "cliente",
    "customer", "kunde",
})
# a "name" of something that is not a person
_BUSINESS_STEMS = (
    "company", "account", "campaign", "opportunit", "deal", "product", "asset", "page", "form", "event",
    "list", "file", "stage", "source", "firma", "unternehmen", "konto", "kampagne", "produkt", "datei",
    "liste", "quelle", "entreprise", "societe", "compte", "campagne", "produit", "fichier", "empresa",
    "cuenta", "campana", "producto", "archivo", "fuente", "conta", "campanha", "produto", "arquivo",
    "fonte", "organi", "brand", "marke", "marque", "marca", "team", "domain", "website", "channel",
    "kanal", "canal", "segment", "industr", "branche", "sector", "plan", "tier", "region", "city",
)


def header_words(name: str) -> tuple[str, ...]:
    """A header's words without case, accents or punctuation; ``-``, ``.`` and apostrophes join.

    >>> header_words("E-Mail-Adresse"), header_words("Téléphone portable"), header_words("Tel.")
    (('emailadresse',), ('telephone', 'portable'), ('tel',))
    """
    folded = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("ẞ", "ss"))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    plain = re.sub("[-.'`\u2019\u00b4]", "", plain)  # hyphens, dots, apostrophes join
    return tuple(w for w in re.split(r"[^0-9a-z]+", plain) if w)


def is_email_column(name: str) -> bool:
    """Whether a header names a person's e-mail address (its values feed the e-mail hash).

    >>> [is_email_column(n) for n in ("E-Mail Address", "Correo electrónico", "Email Opt Out")]
    [True, True, False]
    """
    words = header_words(name)
    return (any(w in _EMAIL_WORDS for w in words)
            and all(w in _EMAIL_WORDS or w in _EMAIL_FILLERS for w in words))


def is_personal_column(name: str) -> bool:
    """Whether a file column probably holds personal data (a person's name, e-mail, phone, address).

    >>> [is_personal_column(n) for n in ("Contact Name", "Company Name", "Phone Number", "Industry")]
    [True, False, True, False]
    >>> [is_personal_column(n) for n in ("Nachname", "Nombre de salariés", "Código postal", "City")]
    [True, False, True, False]
    """
    words = header_words(name)
    joined = "".join(words)
    if is_email_column(name) or any(
            w in _PERSONAL_WORDS or w.startswith(_PERSONAL_STEMS) or w.endswith("phone") for w in words):
        return True
    if words in (("contact",), ("kontakt",), ("contacto",), ("contato",)):
        return True  # a bare "Contact" column holds the person (or how to reach them)
    if not (any(w in _NAME_WORDS for w in words) or joined in _NAME_WORDS):
        return False
    if any(w in _CONTACT_WORDS for w in words):
        return True
    if any(stem in joined for stem in _BUSINESS_STEMS):
        return False
    # French "nombre de ..." is a count ("Nombre de salariés"), not a name
    return not any(w == "nombre" and nxt in ("de", "d", "des") for w, nxt in itertools.pairwise(words))


# --- free text ----------------------------------------------------------------------------------------

_HOLD = "\ue000"  # marks a date while phone numbers are searched (no phone starts or ends beside it)
_B = rf"(^|[^0-9A-Za-z_+./\-{_HOLD}])"  # what may stand before a number
_E = rf"($|[^0-9A-Za-z_:{_HOLD}])"  # what may follow it
_DATE = r"(\d{4}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4})"
_PHONE_WORDS = ("tel|telnr|phone|call|mobile|mobil|cell|handy|fon|telefon|telefone|telefono|teléfono|"
                "téléphone|telephone|whatsapp|fax|portable|celular|movil|móvil")
# (pattern, replacement): applied in order, the same in DuckDB (RE2) and Python
_SCRUB: tuple[tuple[str, str], ...] = (
    # bounded repeats (an address's local part is at most 64 characters): linear time on any text
    (r"[^\s@<>()\[\],;:\"']{1,64}@[^\s@<>()\[\],;:\"']{1,253}\.[A-Za-z]{2,24}", EMAIL_MARK),
    # hold dates (twice: a date right after another shares the character between them)
    (rf"(^|[^\d./\-]){_DATE}($|[^\d./\-]|[./\-]\D|[./\-]$)", rf"\1{_HOLD}\2{_HOLD}\3"),
    (rf"(^|[^\d./\-{_HOLD}]){_DATE}($|[^\d./\-{_HOLD}]|[./\-]\D|[./\-]$)", rf"\1{_HOLD}\2{_HOLD}\3"),
    (rf"(?i)\b({_PHONE_WORDS})(\.?[ :=#]{{0,3}}|\s+(?:no\.?|nr\.?|number|nummer|at|is|on)\s*:?\s*)"
     rf"(\+?\d(?:[ ./()\-]{{0,2}}\d){{6,14}}){_E}", rf"\1\2{PHONE_MARK}\4"),
    (rf"{_B}(\+\d(?:[ ./()\-]{{0,2}}\d){{6,14}}){_E}", rf"\1{PHONE_MARK}\3"),
    (rf"{_B}(\(\d{{2,5}}\)[ ./\-]?\d{{3,4}}[ ./\-]?\d{{3,5}}){_E}", rf"\1{PHONE_MARK}\3"),
    (rf"{_B}(0\d{{1,4}}[ ./()\-]{{1,2}}\d(?:[ ./\-]?\d){{6,11}}){_E}", rf"\1{PHONE_MARK}\3"),
    (rf"{_B}(\d{{3}}[ .\-]\d{{3}}[ .\-]\d{{4}}){_E}", rf"\1{PHONE_MARK}\3"),
)
_MAY_HOLD = r"@|\d(?:\D{0,2}\d){6}"  # no "@" nor 7 close digits: neither (most values, cheaply)
_COMPILED = tuple((re.compile(p, re.ASCII), r) for p, r in _SCRUB)


def scrub_text(text: str) -> str:
    """``text`` with e-mail addresses replaced by ``[email]`` and phone numbers by ``[phone]``."""
    if not re.search(_MAY_HOLD, text):
        return text
    for pattern, replacement in _COMPILED:
        if replacement != EMAIL_MARK or "@" in text:  # Python's engine would try every start: skip if none
            text = pattern.sub(replacement, text)
    return text.replace(_HOLD, "")


def scrub_text_sql(expr: str) -> str:
    """SQL twin of :func:`scrub_text` over a VARCHAR expression (NULL stays NULL)."""
    out = expr
    for pattern, replacement in _SCRUB:
        out = f"regexp_replace({out}, {lit(pattern)}, {lit(replacement)}, 'g')"
    out = f"replace({out}, {lit(_HOLD)}, '')"
    return f"(CASE WHEN regexp_matches({expr}, {lit(_MAY_HOLD)}) THEN {out} ELSE {expr} END)"
