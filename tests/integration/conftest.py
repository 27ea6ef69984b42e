"""Fixtures the integration tests share beside the stores of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from ledger.settings import Settings
from projections.store import make_engine, migrate


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The read models' engine on the test's store, migrated to head."""
    engine = make_engine(settings.sqlalchemy_url(), settings.timeouts())
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
