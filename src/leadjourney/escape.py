"""Values from data made safe for each output target: one function per target.

* :func:`csv_cell` (and :func:`csv_text` in the engine): a text cell starting with ``= + - @``,
  tab or CR gets a leading ``'`` (OWASP's CSV injection advice), so a spreadsheet shows it as
  text instead of running it as a formula. Numbers the product writes stay numbers.
* :func:`xlsx_row`: a worksheet row whose text cells are strings, never formulas, without
  the control characters XML cannot hold.
* :func:`markdown_text` (also for table cells), :func:`markdown_code`, :func:`markdown_code_block`:
  no raw HTML, links, emphasis or table breaks from a value.
* :func:`terminal_text`: Rich markup escaped, control characters (ESC, ...) shown as ``\\xNN``
  instead of reaching the terminal; the consoles print emoji codes such as ``:x:`` literally.
* :func:`mermaid_label`: text inside a quoted Mermaid label, on one line.
* :func:`xml_text`: text without the control characters XML 1.0 cannot hold (DOCX);
  :func:`xml_escaped`, :func:`xml_attribute`: escaped text and quoted attributes for SVG and draw.io;
  :func:`html_text`: HTML text and attribute values (the dashboard's tables and static export).
* :func:`one_line`: plain text on one line (a TOML comment).

>>> csv_cell("=1+1"), csv_cell(-2.5), markdown_text("a|<b>"), mermaid_label('"];A-->B[')
("'=1+1", -2.5, 'a\\\\|&lt;b>', '#quot;#93;;A--#gt;B#91;')
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape as rich_escape

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_RE = "^[=+\\-@\\t\\r]"
# C0 controls but tab/newline/CR, DEL and C1: what XML 1.0 cannot hold or a terminal would act on
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029\x85]")
# characters that start inline Markdown (emphasis, code, links, HTML, tables, strikethrough, escapes)
_MARKDOWN_INLINE = re.compile(r"([\\`*\[\]|~])")
# "<" starts HTML; an "&" before a letter or "#" could spell an entity. ">" inline is plain text (kept, so
# "MQL->SQL" reads as written in the raw file too), except where it starts a line (a quote)
_MARKDOWN_HTML = re.compile(r"<|&(?=[A-Za-z#])")
_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;",
                     "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;", "\\": "#92;"}


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV/TSV cell: text starting with ``= + - @``, tab or CR prefixed with ``'``;
    anything else (numbers, booleans, None) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """:func:`csv_cell` of each value."""
    return [csv_cell(v) for v in values]


def csv_text(value: ir.StringValue) -> ir.StringValue:
    """The engine's twin of :func:`csv_cell` for a text column written by ``COPY ... TO`` (NULL stays NULL)."""
    import ibis

    return ibis.ifelse(value.re_search(_FORMULA_START_RE), "'" + value, value)


def xml_text(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot hold (tab, newline and CR kept)."""
    return _CONTROL.sub("", value)


def xml_escaped(value: str) -> str:
    """``value`` as XML/SVG/HTML text: ``& < >`` escaped, control characters dropped."""
    return _xml_escape(xml_text(value))


def html_text(value: str) -> str:
    """``value`` as HTML text or a double-quoted attribute value: ``& < > " '`` escaped, control characters
    dropped."""
    return html.escape(xml_text(value))


def xml_attribute(value: str) -> str:
    """``value`` as a quoted XML/SVG/HTML attribute value, control characters dropped."""
    return _quoteattr(xml_text(value))


def xlsx_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Append a row: text cells as strings (never formulas, control characters dropped), other values as they are."""
    sheet.append([xml_text(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl takes text starting with "=" for a formula


def one_line(value: str) -> str:
    """``value`` on one line: line breaks and control characters as spaces (e.g. in a TOML or YAML comment)."""
    return _ANY_CONTROL.sub(" ", _LINE_BREAK.sub(" ", value))


def markdown_text(value: object) -> str:
    """``value`` as inline Markdown text on one line: HTML as entities, Markdown syntax backslash-escaped,
    control characters and line breaks as spaces; safe in a table cell. ``_`` is escaped only where it could
    start emphasis."""
    text = one_line(str(value))
    text = _MARKDOWN_HTML.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", text)
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    return re.sub(r"^([#>])", r"\\\1", text)  # not a heading or a quote where it starts a line


def markdown_code(value: object) -> str:
    """``value`` as a Markdown code span (shown verbatim), safe in a table cell."""
    text = one_line(str(value)).replace("|", "\\|")
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def markdown_code_block(text: str, info: str = "") -> list[str]:
    """``text`` as a fenced code block (its lines, fence included), the fence longer than any backtick
    run inside; control characters but tab dropped."""
    body = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n")
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", body)), default=0) + 1)
    return [fence + info, body, fence]


def terminal_text(value: object) -> str:
    """``value`` for a Rich console: markup escaped, control characters shown as ``\\xNN`` (newlines kept)."""
    text = str(value).replace("\r\n", "\n")
    text = re.sub("[\x00-\x09\x0b-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return rich_escape(text)


def mermaid_label(value: object) -> str:
    """``value`` inside a quoted Mermaid label (``["..."]``, ``|"..."|``, a YAML ``"..."`` title): entity
    codes for quotes, brackets, ``#``, ``<``/``>``, ``|``, backticks and backslashes; one line."""
    return "".join(_MERMAID_ENTITIES.get(c, c) for c in one_line(str(value)))


__all__ = [
    "FORMULA_START",
    "csv_cell",
    "csv_row",
    "csv_text",
    "html_text",
    "markdown_code",
    "markdown_code_block",
    "markdown_text",
    "mermaid_label",
    "one_line",
    "terminal_text",
    "xlsx_row",
    "xml_attribute",
    "xml_escaped",
    "xml_text",
]


def _xml_escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities (xml.sax.saxutils.escape, without importing urllib with it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoteattr(text: str) -> str:
    """An attribute value with its quotes (xml.sax.saxutils.quoteattr): whitespace controls as references, a
    double quote as &quot; unless single quotes can wrap it."""
    text = _xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))
