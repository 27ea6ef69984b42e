"""One rebuild at a time per store. Every rebuild's shadow tables share one position table, which
each drops on start: a second rebuild started beside a first (say `rebuild rollups` in one
terminal while `rebuild caseload` runs in another) pulled it from under the first, which failed
after minutes of work. The second is now refused at once, and the first is left alone."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from ledger.application import Ledger
from ledger.settings import Settings
from projections.runner import REBUILD_LOCK_KEY, ProjectionRunner, Rebuilder
from projections.stalls import RebuildRunning
from tests.integration.helpers import World
from tests.integration.test_projection_crashes import dump
from tests.integration.test_projection_stalls import LEDGER_SCRIPT


@contextmanager
def another_rebuild_running(settings: Settings, engine: Engine) -> Iterator[None]:
    """Holds the store's rebuild lock from another session (PostgreSQL) or another open file
    (SQLite), as a rebuild in another process does."""
    if engine.dialect.name == "postgresql":
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (REBUILD_LOCK_KEY,))
            yield
        return
    with open(f"{engine.url.database}.rebuild.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def test_a_rebuild_started_while_another_runs_is_refused_at_once_and_changes_nothing(ledger: Ledger, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    World.build(ledger, workers=1)
    runner = ProjectionRunner(ledger, engine)
    runner.ensure_positions()
    runner.run_until_idle()
    served = dump(engine)

    with another_rebuild_running(settings, engine):
        with pytest.raises(RebuildRunning):
            Rebuilder(ledger, engine).rebuild("caseload")
        env = dict(os.environ, LEDGER_DATABASE_URL=settings.database_url, LEDGER_ID_HASH_KEY=settings.id_hash_key, LEDGER_ENVIRONMENT="test")
        done = subprocess.run([str(LEDGER_SCRIPT), "projections", "rebuild", "rollups"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().startswith("ledger: error: RebuildRunning: Another rebuild is running on this store"), done.stderr
        assert dump(engine) == served

    # Once the other one has ended, the lock is free again.
    assert Rebuilder(ledger, engine).rebuild("caseload") == ledger.head()
    assert dump(engine) == served
