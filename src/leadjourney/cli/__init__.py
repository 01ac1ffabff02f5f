"""Command-line entry point: runs the Typer app, turning errors into one line.

Nothing heavy is imported before ``main`` runs (the package imports its names on first use), so a Ctrl-C at
any moment, start-up included, ends in one line and exit 130, never a traceback or death by the signal.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from leadjourney.errors import InterruptedAfterCommit, LeadJourneyError
from leadjourney.interrupts import caused_by_ctrl_c, ignore_ctrl_c

INTERRUPTED = "interrupted; the workspace is unchanged"
INTERRUPTED_AFTER_COMMIT = "interrupted after the ingest completed: the workspace holds the new data"


def main(argv: list[str] | None = None) -> None:
    """Run ``leadjourney``; ``--debug`` anywhere shows tracebacks instead of one-line errors.

    Every error leadjourney raises on purpose (:class:`~leadjourney.errors.LeadJourneyError` and its subclasses)
    ends here: its message on stderr, and the exit code the error class carries; one line in a file or pipe, wrapped
    at the width between words in a terminal.
    ``argv`` given (a call in-process, as the tests make): Ctrl-C is handed back as it was when done; else (the
    process's own entry point) it stays ignored from the end of the command until the process exits.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    held: Any = None
    try:
        from leadjourney.workspace import databases_kept_open

        with databases_kept_open():  # one command: its dozens of connections share one open database
            _run(args, debug)
    except KeyboardInterrupt as exc:
        held = _hold_ctrl_c()
        _say(_interrupted_text(exc))
        sys.exit(130)
    except SystemExit as exc:
        interrupt = _by_ctrl_c(exc)  # Typer turns Ctrl-C into exit 130 without a word
        if interrupt is not None:
            held = _hold_ctrl_c()
            _say(_interrupted_text(interrupt))
        raise
    finally:
        if argv is None:  # the process ends now: a Ctrl-C from here on must not end it by the signal (exit -2)
            _hold_ctrl_c()
        elif held is not None:
            signal.signal(signal.SIGINT, held)


def _run(args: list[str], debug: bool) -> None:
    from rich.console import Console

    from leadjourney.cli.app import app
    from leadjourney.escape import terminal_text

    err = Console(stderr=True, emoji=False)
    try:
        app(args=args, prog_name="leadjourney", standalone_mode=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        # Ctrl-C inside a DuckDB query or a pyarrow read, or an error raised on the way out of one ("not a
        # readable file" for an interrupted read): Ctrl-C all the same
        if caused_by_ctrl_c(exc):
            raise KeyboardInterrupt from None
        if debug:
            raise
        if isinstance(exc, LeadJourneyError):
            err.print(f"[bold red]error:[/bold red] {terminal_text(str(exc))}", soft_wrap=not err.is_terminal)
            sys.exit(exc.exit_code)  # the error class carries its exit code
        # a bug, not bad input: say so briefly
        err.print(f"[bold red]internal error:[/bold red] {terminal_text(type(exc).__name__)}: {terminal_text(str(exc))} "
                  "(rerun with --debug for the traceback, and please report it)", soft_wrap=not err.is_terminal)
        sys.exit(3)


def _interrupted_text(exc: BaseException) -> str:
    return INTERRUPTED_AFTER_COMMIT if isinstance(exc, InterruptedAfterCommit) else INTERRUPTED


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _hold_ctrl_c() -> Any:
    """Ignore further Ctrl-C while the command says why it stops and exits: a second press, or the signal that
    stopped a DuckDB query still pending, must not end the process by the signal (exit -2). Returns the handler
    it replaced (None off the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, ignore_ctrl_c)


def _by_ctrl_c(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt among the exceptions that led to ``exc``, if any."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return None


__all__ = ["main"]
