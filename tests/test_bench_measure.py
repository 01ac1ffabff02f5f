"""The benchmarks' peak memory is the measured child's own, not its parent's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _measure():  # bench/ is not a package on the tests' path; measure.py needs only the standard library
    spec = importlib.util.spec_from_file_location("bench_measure_under_test", ROOT / "bench" / "measure.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_child_peak_excludes_the_parents() -> None:
    """A parent that held 400 MB (the growth bench copying the 1M set in-process held 9 GB) made every child it
    then started report at least that much under getrusage's ru_maxrss, which a child inherits across exec."""
    held = bytearray(400 * 2**20)
    held[::4096] = b"\x01" * len(range(0, len(held), 4096))  # resident, not only reserved
    measure = _measure()
    _, peak, out = measure.run_child("x = bytearray(100 * 2**20)\nx[::4096] = b'\\1' * len(range(0, len(x), 4096))\n"
                                     "print('ok')\n")
    del held
    assert out.strip() == "ok"
    assert 100 <= peak < 300, peak  # the child's 100 MB and the interpreter, not the parent's 400 MB
