"""Ctrl-C held back while a step must not be cut short (a COMMIT, a rollback, undoing a registration)."""

from __future__ import annotations

import signal
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


__all__ = ["ctrl_c_held", "ignore_ctrl_c"]
