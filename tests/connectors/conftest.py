"""Fixtures for connector tests: a real HTTP server on 127.0.0.1 per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiserver import ApiServer


@pytest.fixture
def api() -> Iterator[ApiServer]:
    with ApiServer() as server:
        yield server
