"""The Typer app every command module registers on, its two consoles and the shared workspace argument.

Command modules import this, never each other's commands, so the cli modules import in one direction.
"""

from __future__ import annotations

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
