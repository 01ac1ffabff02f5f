"""leadjourney: inbound lead journey mapping from CRM, marketing-automation and web data.

>>> import leadjourney as lj                                  # doctest: +SKIP
>>> ws = lj.Workspace.init("acme")                            # doctest: +SKIP
>>> ws.set_sources([{"name": "crm", "path": "contacts.csv", "format": "hubspot_contacts"}])  # doctest: +SKIP
>>> lj.ingest(ws); print(lj.run_quality(ws).to_markdown())    # doctest: +SKIP

The names below are imported when first used, so ``import leadjourney.cli`` (the command's entry point) is
quick: a Ctrl-C while the command starts up reaches the code that says so instead of an import's traceback.
"""

import sys as _sys
from importlib import import_module as _import_module
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from leadjourney.config import Config, load_config
    from leadjourney.errors import (
        BadFileError,
        ConfigError,
        DataQualityWarning,
        EmptySelectionError,
        IngestError,
        LeadJourneyError,
        NoDataError,
        SelectionError,
        WorkspaceError,
    )
    from leadjourney.generate import Dirt, GeneratedData, generate
    from leadjourney.ingest import IngestReport, ingest
    from leadjourney.quality import QualityReport, run_quality
    from leadjourney.workspace import Workspace

__version__ = "0.1.0"

_HOME = {  # public name -> the module that defines it
    **dict.fromkeys(["Config", "load_config"], "leadjourney.config"),
    **dict.fromkeys(["BadFileError", "ConfigError", "DataQualityWarning", "EmptySelectionError", "IngestError",
                     "LeadJourneyError", "NoDataError", "SelectionError", "WorkspaceError"], "leadjourney.errors"),
    **dict.fromkeys(["Dirt", "GeneratedData", "generate"], "leadjourney.generate"),
    **dict.fromkeys(["IngestReport", "ingest"], "leadjourney.ingest"),
    **dict.fromkeys(["QualityReport", "run_quality"], "leadjourney.quality"),
    "Workspace": "leadjourney.workspace",
}


def __getattr__(name: str) -> _Any:
    if name not in _HOME:
        raise AttributeError(f"module 'leadjourney' has no attribute {name!r}")
    value = getattr(_import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


class _Package(_ModuleType):
    """This package, whose functions ``ingest`` and ``generate`` keep their names when their submodules (of the
    same names) are imported: the import system would otherwise bind the submodules over them."""

    def __setattr__(self, name: str, value: _Any) -> None:
        if name in _HOME and isinstance(value, _ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "BadFileError",
    "Config",
    "ConfigError",
    "DataQualityWarning",
    "Dirt",
    "EmptySelectionError",
    "GeneratedData",
    "IngestError",
    "IngestReport",
    "LeadJourneyError",
    "NoDataError",
    "QualityReport",
    "SelectionError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "generate",
    "ingest",
    "load_config",
    "run_quality",
]
