"""The composition root: builds the ledger and its processes from settings."""

from __future__ import annotations

import time

import structlog
from eventsourcing.persistence import IntegrityError, InternalError, ProgrammingError

from ledger.application import Ledger
from ledger.processes import MilestoneProcess
from ledger.settings import Settings

log = structlog.get_logger(__name__)


def build_ledger(settings: Settings) -> Ledger:
    for attempt in range(4):
        try:
            return Ledger(settings.eventstore_env(), policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())
        except (IntegrityError, InternalError, ProgrammingError) as error:
            # Processes creating a new store's tables at once (`ledger serve` and `ledger demo`
            # started together) race: SQLite's loser fails to record the library's migration
            # mark, PostgreSQL's sees "tuple concurrently updated", a duplicate type, or
            # "relation ... already exists" (CREATE TABLE IF NOT EXISTS is not atomic there).
            # The DDL is idempotent, so the loser opens the store again and finds the tables made.
            raced = not isinstance(error, ProgrammingError) or "already exists" in str(error)
            if not settings.create_table or not raced or attempt == 3:
                raise
            log.info("store.create_table_raced", attempt=attempt + 1, error=str(error).splitlines()[0])
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def build_milestones(ledger: Ledger) -> MilestoneProcess:
    return MilestoneProcess(ledger)
