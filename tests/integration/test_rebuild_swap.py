"""A rebuild swaps its rows into the live tables at the end, in one transaction: a copy as long as
the read model. On PostgreSQL that copy outlasts the statement timeout that bounds every other
statement (a million visits take minutes), so it is bounded by its lock wait alone, like a migration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from ledger.application import Ledger
from ledger.bootstrap import build_ledger
from ledger.settings import Settings
from projections.runner import ProjectionRunner, Rebuilder
from projections.store import make_engine, migrate
from tests.integration.helpers import World
from tests.integration.test_projection_crashes import dump

STATEMENT_TIMEOUT = 0.5  # seconds: every statement of the read side but the swap's copy
COPY_SECONDS = 1.5  # what the trigger below makes the copy into the live audit trail take


@pytest.fixture
def slow_settings(postgres_url: str) -> Settings:
    return Settings(environment="test", database_url=postgres_url, id_hash_key="test-id-hash-key", postgres_statement_timeout_seconds=STATEMENT_TIMEOUT)


@pytest.fixture
def slow_ledger(slow_settings: Settings) -> Iterator[Ledger]:
    app = build_ledger(slow_settings)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def engine(slow_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(slow_settings.sqlalchemy_url(), slow_settings.timeouts())
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _slow_copy_into(engine: Engine, table: str, seconds: float) -> None:
    """A real statement-level trigger on the live table: the swap's INSERT … SELECT into it then
    takes `seconds` longer, as a copy of millions of rows would. The shadow tables have other names."""
    with engine.begin() as conn:
        conn.execute(text(f"CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$"))
        conn.execute(text(f"CREATE TRIGGER slow_copy AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION slow_copy()"))


def test_a_rebuild_whose_copy_outlasts_the_statement_timeout_still_swaps_in_its_rows(slow_ledger: Ledger, engine: Engine) -> None:
    World.build(slow_ledger, workers=1)
    runner = ProjectionRunner(slow_ledger, engine)
    runner.ensure_positions()
    runner.run_until_idle()
    live = dump(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == f"{round(STATEMENT_TIMEOUT * 1000)}ms"
    _slow_copy_into(engine, "audit_events", COPY_SECONDS)

    done = Rebuilder(slow_ledger, engine).rebuild("audit")

    assert done == slow_ledger.head()
    assert dump(engine) == live  # the rebuilt rows equal the ones the live runner kept
