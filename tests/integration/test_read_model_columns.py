"""The migrations build the read-model columns the tables declare, so a text the domain accepts
fits the live tables as it fits the shadow tables of a rebuild."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, String

import projections.chain.tables  # noqa: F401  (the chain's tables join the metadata)
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


def test_the_migrations_build_exactly_the_tables_columns_and_indexes_the_code_declares(settings: Settings):
    # One source of truth: projections/tables.py. A migration that forgets a table, a column,
    # an index or a type, or one that the tables no longer declare, shows up here.
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    # Tables of the library's event store and alembic's own version table are not the read models'.
    foreign = [d for d in diff if d[0] == "remove_table" and d[1].name not in metadata.tables]
    assert [d for d in diff if d not in foreign] == []


def test_a_token_subject_longer_than_the_audit_trail_holds_is_refused(ledger):
    with pytest.raises(InvalidText):
        ledger.issue_token("auditor", "audit-bureau", "x" * (limits.TOKEN_SUBJECT.max_length + 1))
