"""How long-running steps report progress, without depending on a terminal library.

>>> def show(message: str, done: int, total: int) -> None:
...     print(f"{done}/{total} {message}")
>>> show("reading leads.csv", 0, 3)
0/3 reading leads.csv
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, message: str, done: int, total: int) -> None:
        """``done`` of ``total`` steps are finished; ``message`` names the current one."""


def silent(message: str, done: int, total: int) -> None:
    """A Progress that shows nothing."""
