"""The Typer app every command module registers on, its two consoles and the shared workspace argument.

Command modules import this, never each other's commands, so the cli modules import in one direction.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Annotated

import typer

from leadjourney.cli import render

app = typer.Typer(
    help="Inbound lead journey mapping: ingest CRM exports, check data quality, analyze the journey.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = render.LiveConsole(emoji=False)
err = render.LiveConsole(stderr=True, emoji=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace folder (default: the current folder).")]


_COMMAND_LINE = re.compile(r"(\[bold\])?(leadjourney |\d+ \d+ \S+ \S+ \S+ )")  # a command (or cron line) starts a line


def reflowed(doc: str) -> str:
    """A help text's paragraphs with the source's line breaks taken out (Rich wraps them at the width), except
    before a command line (an example to copy, a cron entry), which keeps its own line."""
    paragraphs = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        merged = lines[:1]
        for line in lines[1:]:
            if _COMMAND_LINE.match(line):
                merged.append(line)
            else:
                merged[-1] += " " + line
        paragraphs.append("\n".join(merged))
    return "\n\n".join(paragraphs)


def one_line_summaries(typer_app: typer.Typer) -> None:
    """Every command's and group's help reflowed (:func:`reflowed`) and a ``short_help``, its first paragraph
    as one line. Typer's Rich mode keeps a docstring's line breaks, so text wrapped in the source broke
    mid-sentence at 80 columns ("... red drop-offs with revenue impact," / "the dark-lead path ...")."""
    def texts(help_text: str | None, callback: object) -> tuple[str | None, str | None]:
        doc = help_text or (inspect.getdoc(callback) if callback is not None else None)
        if not doc:
            return None, None
        flowed = reflowed(doc)
        return flowed, " ".join(flowed.split("\n\n", 1)[0].split())

    for command in typer_app.registered_commands:
        command.help, summary = texts(command.help, command.callback)
        command.short_help = command.short_help or summary
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        info = sub.registered_callback
        group.help, summary = texts(group.help or sub.info.help, info.callback if info else None)
        group.short_help = group.short_help or sub.info.short_help or summary
        one_line_summaries(sub)
