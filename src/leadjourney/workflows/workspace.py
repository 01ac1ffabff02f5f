"""Open or create a workspace: the first step of every workflow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from leadjourney.workspace import Workspace

WorkspaceLike = Union["Workspace", str, Path]


def open_workspace(path: WorkspaceLike = ".") -> Workspace:
    """The workspace in ``path`` (a :class:`~leadjourney.errors.WorkspaceError` when there is none)."""
    from leadjourney.workspace import Workspace

    return path if isinstance(path, Workspace) else Workspace.open(Path(path))


def init_workspace(path: str | Path, *, exist_ok: bool = False) -> Workspace:
    """Create a workspace in ``path``: a commented leadjourney.toml, an empty database and out/."""
    from leadjourney.workspace import Workspace

    return Workspace.init(Path(path), exist_ok=exist_ok)
