"""Load Ibis's SQL compilers one dialect at a time, as they are used.

``ibis.backends.sql.compilers`` imports the compiler of every dialect Ibis knows (Athena, BigQuery, ...,
Trino, each with its sqlglot dialect) whenever any backend loads: a quarter of a CPU second at every start of
an analysis, though a run uses one dialect. :func:`install` (called when ``leadjourney`` is imported; it
imports nothing itself) makes that package lazy: ``sc.duckdb`` or ``from ... import PostgresCompiler`` imports
that dialect's module on first use, which is all the backends (DuckDB, PySpark, PostgreSQL) ask of it.
Nothing changes when Ibis was imported before.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import importlib.abc

PACKAGE = "ibis.backends.sql.compilers"


def _attribute(name: str) -> Any:
    """A dialect module (``duckdb``) or its compiler class (``DuckDBCompiler``: the module ``duckdb``)."""
    module = name.removesuffix("Compiler").lower() if name.endswith("Compiler") else name
    try:
        loaded = importlib.import_module(f"{PACKAGE}.{module}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None
    return getattr(loaded, name) if name.endswith("Compiler") else loaded


class _LazyPackage:
    """Finds :data:`PACKAGE` where it is installed, and loads it without running its ``__init__`` (a meta path
    finder and loader; ``importlib.abc`` is not imported for its base classes, which cost more than the rest)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is None or real.submodule_search_locations is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, cast("importlib.abc.Loader", self), origin=real.origin, is_package=True)
        spec.submodule_search_locations = real.submodule_search_locations
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__["__getattr__"] = _attribute


_FINDER = _LazyPackage()


def install() -> None:
    """Make :data:`PACKAGE` lazy from its first import on (no effect once it is imported)."""
    if PACKAGE not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
