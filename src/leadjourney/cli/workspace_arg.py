"""The workspace named one way by every command: a positional WORKSPACE, also on commands with subcommands.

``leadjourney status acme``, ``leadjourney findings acme confirm ID`` and ``leadjourney monitor acme history``
read like ``leadjourney analyze acme``; ``-w/--workspace`` stays an alias on the commands that took it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from leadjourney.errors import OptionError

if TYPE_CHECKING:
    from leadjourney.workflows.workspace import WorkspaceLike
    from leadjourney.workspace import Workspace

WorkspaceAlias = Annotated[Path | None, typer.Option("--workspace", "-w",
                                                     help="Workspace folder (alias of the WORKSPACE argument).")]


class WorkspaceGroup(TyperGroup):
    """A command with subcommands whose callback takes the workspace as its one positional argument.

    Click would read a subcommand's name as the workspace (``findings confirm ID``) and stop reading the
    callback's options at the workspace (``findings acme --json``). So the arguments are arranged first: the
    callback's options, then the workspace (``.`` when none is given), then the subcommand and its arguments;
    without a subcommand, options and the workspace may come in any order.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        options: list[str] = []
        positional: list[str] = []
        i = 0
        while i < len(args):
            token = args[i]
            if token == "--":
                break
            if token.startswith("-") and token != "-":
                options.append(token)
                if "=" not in token and self._takes_value(token) and i + 1 < len(args):
                    i += 1
                    options.append(args[i])
            elif token in self.commands and len(positional) <= 1:
                args = [*options, *(positional or ["."]), *args[i:]]
                return super().parse_args(ctx, args)
            else:
                positional.append(token)
            i += 1
        ctx.allow_interspersed_args = True
        return super().parse_args(ctx, args)

    def _takes_value(self, token: str) -> bool:
        for param in self.params:  # Typer's click: options have is_flag, arguments do not
            if hasattr(param, "is_flag") and token in (*param.opts, *param.secondary_opts):
                return not param.is_flag and not getattr(param, "count", False)
        return False


def chosen_workspace(positional: Path, alias: Path | None) -> Path:
    """The workspace the command line names: the positional path, or ``-w``'s (one of them, not two)."""
    if alias is None:
        return positional
    if positional != Path(".") and positional.resolve() != alias.resolve():
        raise OptionError(f"the workspace is named twice ({positional} and -w {alias}); give it once, "
                          f"as the first argument")
    return alias


def group_settings(**extra: Any) -> dict[str, Any]:
    """The ``typer.Typer`` settings of a command with subcommands and a positional workspace."""
    return {"cls": WorkspaceGroup, "invoke_without_command": True, "no_args_is_help": False, **extra}


def open_workspace(path: WorkspaceLike = ".", engine: str | None = None) -> Workspace:
    """:func:`leadjourney.workflows.open_workspace`, the workflows loaded when a command runs: ``--help`` and
    start-up load none of them."""
    from leadjourney.workflows.workspace import open_workspace as opened

    return opened(path, engine)
