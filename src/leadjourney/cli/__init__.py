"""Command-line entry point: runs the Typer app, turning errors into one line."""

from __future__ import annotations

import signal
import sys
import threading

from rich.console import Console

from leadjourney.errors import LeadJourneyError
from leadjourney.escape import terminal_text

INTERRUPTED = "interrupted; the workspace is unchanged"


def main(argv: list[str] | None = None) -> None:
    """Run ``leadjourney``; ``--debug`` anywhere shows tracebacks instead of one-line errors.

    Every error leadjourney raises on purpose (:class:`~leadjourney.errors.LeadJourneyError` and its subclasses)
    ends here: its message on one line on stderr, and the exit code the error class carries."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    from leadjourney.cli.app import app

    err = Console(stderr=True, emoji=False)
    try:
        app(args=args, prog_name="leadjourney", standalone_mode=True)
    except LeadJourneyError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/bold red] {terminal_text(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _say_interrupted(err)
        sys.exit(130)
    except SystemExit as exc:
        if _by_ctrl_c(exc):  # Typer turns Ctrl-C into exit 130 without a word
            _say_interrupted(err)
        raise
    except Exception as exc:  # a bug, not bad input: say so briefly
        if debug:
            raise
        err.print(f"[bold red]internal error:[/bold red] {terminal_text(type(exc).__name__)}: {terminal_text(str(exc))} "
                  "(rerun with --debug for the traceback, and please report it)", soft_wrap=True)
        sys.exit(3)


def _say_interrupted(err: Console) -> None:
    """Say so, with Ctrl-C ignored meanwhile: the signal that stopped a DuckDB query may still be pending in
    Python, and raising it now would end the process by the signal (-2) instead of exit 130."""
    if threading.current_thread() is not threading.main_thread():
        err.print(INTERRUPTED)
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        err.print(INTERRUPTED)
    finally:
        signal.signal(signal.SIGINT, previous)


def _by_ctrl_c(exc: BaseException) -> bool:
    """True when a KeyboardInterrupt is among the exceptions that led to ``exc``."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return False


__all__ = ["main"]
