"""The composition root: builds the ledger and its processes from settings."""

from __future__ import annotations

from ledger.application import Ledger
from ledger.processes import MilestoneProcess
from ledger.settings import Settings


def build_ledger(settings: Settings) -> Ledger:
    return Ledger(settings.eventstore_env(), policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())


def build_milestones(ledger: Ledger) -> MilestoneProcess:
    return MilestoneProcess(ledger)
