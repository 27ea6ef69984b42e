"""The migrations build the read-model columns the tables declare, so a text the domain accepts
fits the live tables as it fits the shadow tables of a rebuild."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, String

from ledger.domain import limits
from ledger.domain.limits import InvalidText
from ledger.settings import Settings
from projections.store import make_engine, migrate
from projections.tables import metadata


def test_the_migrated_text_columns_are_as_long_as_the_tables_declare(settings: Settings):
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        built = MetaData()
        built.reflect(engine)
    finally:
        engine.dispose()
    checked = 0
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                assert built.tables[table.name].c[column.name].type.length == column.type.length, f"{table.name}.{column.name}"
                checked += 1
    assert checked > 40


def test_a_token_subject_longer_than_the_audit_trail_holds_is_refused(ledger):
    with pytest.raises(InvalidText):
        ledger.issue_token("auditor", "audit-bureau", "x" * (limits.TOKEN_SUBJECT.max_length + 1))
