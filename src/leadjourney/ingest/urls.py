"""Page and referrer URLs as the web journey keeps them: no query string but the ``utm_*`` parameters.

A query string carries whatever a site put there (an e-mail in ``?email=``, a token, a search): only the
campaign tags are kept, the fragment is dropped, and a URL-encoded ``@`` is decoded so the e-mail masking
of free text (:func:`leadjourney.ingest.personal.scrub_text_sql`, applied to every text column) finds
e-mails in paths and tags too. All in SQL, per row in the engine. What the web visits keep of a URL (its path,
host and ``utm_*`` tags: :func:`url_path`, :func:`url_host`, :func:`url_utm`) are Ibis expressions, for every engine.

>>> import duckdb
>>> duckdb.sql(f"SELECT {clean_url_sql(repr('https://x.io/a?email=j%40x.io&utm_source=li#top'))}").fetchall()[0][0]
'https://x.io/a?utm_source=li'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadjourney.casefold import case_insensitive
from leadjourney.ingest.sql import blank_to_null

if TYPE_CHECKING:
    import ibis.expr.types as ir


def clean_url_sql(expr: str) -> str:
    """``expr`` (a URL) without fragment and query string except ``utm_*`` parameters; NULL when blank. In one
    expression, both steps in full: the fast paths of :func:`url_unfragmented_sql` and
    :func:`url_query_cleaned_sql` pay only with each step's result a column (nested here: 1.4x the CPU)."""
    return _query_cleaned(_unfragmented(blank_to_null(expr)))


def url_unfragmented_sql(expr: str) -> str:
    """The first step of :func:`clean_url_sql`: ``expr`` without its fragment, ``@`` decoded; NULL when blank.
    Most URLs have neither ``#`` nor ``%``: they are only trimmed. With :func:`url_query_cleaned_sql` over its
    result as a column of the next layer (GA4 staging): each step computed once a row."""
    url = blank_to_null(expr)
    return f"(CASE WHEN NOT (contains({url}, '#') OR contains({url}, '%')) THEN {url} ELSE {_unfragmented(url)} END)"


def url_query_cleaned_sql(url: str) -> str:
    """The second step of :func:`clean_url_sql` over ``url`` (the first step's result, best a column: it is read
    several times): its query string without the parameters but ``utm_*``; a URL without ``?`` as it is."""
    return f"(CASE WHEN NOT contains({url}, '?') THEN {url} ELSE {_query_cleaned(url)} END)"


def _unfragmented(url: str) -> str:
    return f"replace(replace(split_part({url}, '#', 1), '%40', '@'), '%2540', '@')"


def _query_cleaned(url: str) -> str:
    kept = (f"array_to_string(list_filter(string_split(split_part({url}, '?', 2), '&'), "
            f"lambda q: starts_with(lower(q), 'utm_')), '&')")
    return f"(split_part({url}, '?', 1) || CASE WHEN {kept} <> '' THEN '?' || {kept} ELSE '' END)"


# The path and host of a URL, and its utm_* tags, as Ibis expressions (what the web visits keep of a page and a
# referrer; :mod:`leadjourney.ingest.web_visits`): regular expressions that RE2 (DuckDB), Java (Spark) and Postgres's
# AREs read alike (Postgres's extraction made RE2's by leadjourney.warehouse's compiler).
# The path is the part from the first "/" after the scheme and host to the query or fragment; one with a line
# break in it is no path (what RE2's "." and "$" made of it when it was written as one anchored expression).
PATH_PATTERN = r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?[^/?#]*(/[^?#]*)?"
HOST_PATTERN = r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]*)"


def url_path(url: ir.StringValue) -> ir.StringValue:
    """The path of a URL (``/pricing``), scheme, host, query and fragment left out; ``/`` for a bare host."""
    import ibis

    found = url.re_extract(PATH_PATTERN, 1)
    return ibis.cases((url.isnull(), ibis.null("string")), ((found == "") | found.contains("\n"), "/"), else_=found)


def url_host(url: ir.StringValue) -> ir.StringValue:
    """The host of a URL, lower case without ``www.`` (NULL when the URL has no scheme)."""
    return url.re_extract(HOST_PATTERN, 1).lower().re_replace(r"^www\.", "").nullif("")


def url_utm(url: ir.StringValue, tag: str) -> ir.StringValue:
    """The value of the URL's ``utm_<tag>`` parameter (the name in any case; NULL when missing or empty). The name
    is matched by :func:`~leadjourney.casefold.case_insensitive`'s pattern, not ``(?i)``, which Java folds for ASCII
    only and Postgres reads only at an expression's start (where Ibis wraps it in a group)."""
    return url.re_extract(f"[?&]{case_insensitive(f'utm_{tag}')}=([^&]*)", 1).nullif("")
