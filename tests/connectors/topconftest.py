"""The suite's top conftest (tests/conftest.py: ``run_cli`` and friends), whose name this folder's conftest shadows."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NAME = "leadjourney_tests_conftest"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).parents[1] / "conftest.py")
    assert _spec is not None and _spec.loader is not None
    sys.modules[_NAME] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_NAME])
run_cli = sys.modules[_NAME].run_cli
