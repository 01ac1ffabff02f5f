"""Ctrl-C: held back while a step must not be cut short (a COMMIT, a rollback, undoing a registration), told
however it surfaces (DuckDB and pyarrow report it in their own ways), and left to Python's handler."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Run the block with Ctrl-C ignored: a press meanwhile does nothing, and the handler before is put back.

    A Python handler that does nothing, not SIG_IGN: a signal already caught but not yet handled would be reported
    as a race under SIG_IGN. Off the main thread (where handlers cannot be set) the block simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, ignore_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def ignore_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """A SIGINT handler that does nothing (Ctrl-C while the step runs, or while the command is stopping)."""


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether Ctrl-C caused ``exc``: directly (KeyboardInterrupt), inside a DuckDB query (InterruptException, the
    RuntimeError "Query interrupted" of DuckDB's Python client, or the KeyboardInterrupt of Python code DuckDB ran,
    such as scanning a registered Arrow table, which DuckDB reports as its own error naming it), or inside a
    pyarrow read (ArrowCancelled), possibly followed by a cleanup that failed on the aborted transaction."""
    duckdb, pyarrow = sys.modules.get("duckdb"), sys.modules.get("pyarrow")  # not loaded: none of theirs raised
    kinds: tuple[type[BaseException], ...] = (KeyboardInterrupt,)
    kinds += (duckdb.InterruptException,) if duckdb is not None else ()
    kinds += (pyarrow.ArrowCancelled,) if pyarrow is not None else ()
    chain: BaseException | None = exc
    for _ in range(10):
        if chain is None:
            return False
        if isinstance(chain, kinds) or (type(chain) is RuntimeError and str(chain) == "Query interrupted") or (
                duckdb is not None and isinstance(chain, duckdb.Error) and ": KeyboardInterrupt:" in str(chain)):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def quiet_pyarrow_signals() -> None:
    """Leave Ctrl-C to Python's handler during pyarrow's reads, for the rest of the process (a command's).

    pyarrow swaps in a handler of its own for a read and hands a press back when the read ends; a press in the
    last moments of a read is lost (about 1 in 60 presses during a loop of CSV reads): the command then ran to its
    end. Python's handler keeps the press, raised when the read returns (reads go block by block).
    """
    import pyarrow as pa

    pa.enable_signal_handlers(False)


__all__ = ["caused_by_ctrl_c", "ctrl_c_held", "ignore_ctrl_c", "quiet_pyarrow_signals"]
