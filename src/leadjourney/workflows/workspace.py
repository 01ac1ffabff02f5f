"""Open or create a workspace: the first step of every workflow."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from leadjourney.workspace import Workspace

WorkspaceLike = Union["Workspace", str, Path]


def open_workspace(path: WorkspaceLike = ".", engine: str | None = None) -> Workspace:
    """The workspace in ``path`` (a :class:`~leadjourney.errors.WorkspaceError` when there is none).

    ``engine`` (``--engine``): the ``[engine] backend`` its analyses run on for this run instead of the
    configured one (the file is not changed); an unknown name is an :class:`~leadjourney.errors.OptionError`.
    """
    from leadjourney.workspace import Workspace

    ws = path if isinstance(path, Workspace) else Workspace.open(Path(path))
    if engine is None or engine == ws.config.engine.backend:
        return ws
    from leadjourney.config import ENGINE_BACKENDS
    from leadjourney.errors import OptionError

    if engine not in ENGINE_BACKENDS:
        raise OptionError(f"--engine: expected one of {', '.join(ENGINE_BACKENDS)}, found {engine!r}")
    settings = dataclasses.replace(ws.config.engine, backend=engine)
    return Workspace(ws.root, dataclasses.replace(ws.config, engine=settings))


def init_workspace(path: str | Path, *, exist_ok: bool = False) -> Workspace:
    """Create a workspace in ``path``: a commented leadjourney.toml, an empty database and out/."""
    from leadjourney.workspace import Workspace

    return Workspace.init(Path(path), exist_ok=exist_ok)
