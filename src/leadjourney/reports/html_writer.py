"""Markdown documents as self-contained HTML: images as data URIs, inline CSS, no external requests.

The Markdown is parsed with markdown-it (CommonMark plus tables, raw HTML disabled, so text
from the data or from interview answers can never inject markup); only relative links
survive, and images not supplied in ``images`` are left out with their alt text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment
from markdown_it import MarkdownIt
from markdown_it.token import Token

_HEX = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_ACCENT = "#1A73E8"
_MIME = {"png": "image/png", "svg": "image/svg+xml", "jpg": "image/jpeg", "jpeg": "image/jpeg"}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="leadjourney">
<title>{{ title }}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #202124;
       line-height: 1.5; max-width: 1180px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.9rem; color: {{ accent }}; border-bottom: 3px solid {{ accent }}; padding-bottom: .3rem; }
h2 { font-size: 1.4rem; color: {{ accent }}; margin-top: 2.2rem; border-bottom: 1px solid #DADCE0; }
h3 { font-size: 1.12rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .9rem; width: auto; max-width: 100%; }
th, td { border: 1px solid #DADCE0; padding: .35rem .55rem; vertical-align: top; }
th { background: {{ accent }}; color: #FFFFFF; text-align: left; }
tr:nth-child(even) td { background: #FAFAFA; }
code { background: #F1F3F4; padding: .05rem .3rem; border-radius: 3px; font-size: .88em; }
blockquote { border-left: 4px solid #FBBC04; margin: 1rem 0; padding: .2rem 1rem; background: #FEF7E0; }
img { max-width: 100%; height: auto; border: 1px solid #DADCE0; }
footer { margin-top: 3rem; color: #5F6368; font-size: .8rem; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-after: avoid; } table { page-break-inside: auto; } }
</style>
</head>
<body>
{{ body }}
<footer>{{ footer }}</footer>
</body>
</html>
"""

_env = Environment(autoescape=True)
_page = _env.from_string(PAGE)


def parser() -> MarkdownIt:
    """The one Markdown dialect of the documents: CommonMark with tables, raw HTML off."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def data_uri(name: str, content: bytes) -> str:
    mime = _MIME.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def is_local(href: str) -> bool:
    """A link that stays on the page or beside it (no scheme, no host)."""
    return ":" not in href.split("/", 1)[0] and not href.startswith("//")


def _strip_external(tokens: Sequence[Token], images: Mapping[str, bytes]) -> None:
    for tok in tokens:
        if tok.children is None:
            continue
        kept: list[Token] = []
        dropped = 0
        for child in tok.children:
            if child.type == "link_open" and not is_local(str(child.attrs.get("href", ""))):
                dropped += 1
                continue
            if child.type == "link_close" and dropped:
                dropped -= 1
                continue
            if child.type == "image":
                src = str(child.attrs.get("src", ""))
                if src in images:
                    child.attrs["src"] = data_uri(src, images[src])
                else:  # never point at a file or host the page does not carry
                    kept.append(Token("text", "", 0, content=child.content))
                    continue
            kept.append(child)
        tok.children = kept


def markdown_to_html(markdown: str, images: Mapping[str, bytes]) -> str:
    """The body HTML of ``markdown``, its images embedded."""
    md = parser()
    tokens = md.parse(markdown)
    _strip_external(tokens, images)
    options: Any = md.options
    return str(md.renderer.render(tokens, options, {}))


def to_html(title: str, markdown: str, images: Mapping[str, bytes], footer: str = "",
            accent: str = DEFAULT_ACCENT) -> str:
    """A standalone page: ``markdown`` rendered, ``images`` (file name -> bytes) inlined as data URIs; headings
    and table headers in ``accent`` (a ``#RRGGBB`` colour; anything else falls back to the default)."""
    from markupsafe import Markup

    colour = accent if _HEX.fullmatch(accent) else DEFAULT_ACCENT
    return _page.render(title=title, body=Markup(markdown_to_html(markdown, images)), footer=footer, accent=colour)
