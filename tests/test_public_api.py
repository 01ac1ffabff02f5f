"""The package's public surface: everything exported is listed, sorted, and importable."""

from __future__ import annotations

import inspect

import leadjourney


def test_all_is_sorted_and_complete() -> None:
    assert leadjourney.__all__ == sorted(leadjourney.__all__)
    public = {  # dir(): the names imported on first use as well as those imported already
        name for name in dir(leadjourney)
        if not name.startswith("_") and not inspect.ismodule(getattr(leadjourney, name))
    }
    assert public == set(leadjourney.__all__) - {"__version__"}


def test_every_error_derives_from_the_root() -> None:
    errors = [getattr(leadjourney, n) for n in leadjourney.__all__ if n.endswith("Error")]
    assert len(errors) >= 5
    assert all(issubclass(e, leadjourney.LeadJourneyError) for e in errors)
