"""The chain as the service and the command line use it: its keeper, the deployment's key,
checkpoints, verification and export, over one ledger and one read-model engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from projections.chain.keeper import ChainKeeper
from projections.chain.signing import Checkpoint, load_or_create_key, public_key_text, sign
from projections.chain.verify import Report, export, verify


class TamperEvidence:
    def __init__(self, ledger: Any, engine: Engine, key_path: Path, *, interval: float = 0.5, on_error: Callable[[Exception], None] | None = None) -> None:
        self.ledger = ledger
        self.engine = engine
        self.keeper = ChainKeeper(ledger, engine, interval=interval, on_error=on_error)
        self.key = load_or_create_key(key_path)
        self.public_key = public_key_text(self.key.public_key())

    def prepare(self) -> None:
        """Run after the read-model migrations (alembic revision 0003_chain)."""
        self.keeper.ensure_head()

    def start(self) -> None:
        self.keeper.start()

    def stop(self) -> None:
        self.keeper.stop()

    def checkpoint(self) -> Checkpoint:
        return sign(self.key, self.keeper.head())

    def verify(self, checkpoint: Checkpoint | None = None) -> Report:
        return verify(self.ledger.recorder, self.engine, self.keeper.head(), checkpoint, self.public_key)

    def export(self, out: IO[str]) -> int:
        return export(self.ledger.recorder, self.engine, out)
