"""What follows the log and acts: delivered visits fulfil service-volume milestones.

Visits are separate aggregates, so posting one never loads or locks its contract. This process
reads the visit events from the global log in order, adds them to each contract's tally, and
fulfils the milestones whose volume is reached. Its events and its tracking position are saved
in one transaction, so a crash or a second runner never counts a visit twice or skips one.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import RecordConflictError, Tracking
from eventsourcing.utils import get_topic

from ledger.background import WorkerLoop
from ledger.domain.actors import SYSTEM, Actor
from ledger.domain.contracts import ACTIVE, PENDING, Contract
from ledger.domain.errors import ConcurrentModification
from ledger.domain.records import VolumeTally
from ledger.domain.visits import Visit

if TYPE_CHECKING:
    from ledger.application import Ledger


class MilestoneProcess:
    name = "milestones"

    def __init__(self, app: Ledger, batch_size: int = 1000) -> None:
        self.app = app
        self.batch_size = batch_size
        # Visits change the tallies; a resumed contract may already have reached its volume.
        self.topics = [get_topic(cls) for cls in (Visit.Delivered, Visit.Voided, Visit.Disputed, Visit.SpotChecked, Contract.Resumed)]
        self._lock = threading.Lock()

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(self.name) or 0

    def run_until_idle(self) -> int:
        total = 0
        while n := self.run_once():
            total += n
        return total

    def run_once(self) -> int:
        """Processes one batch of visit events; returns how many it took from the log."""
        with self._lock:
            for _ in range(self.app.max_attempts):
                start = self.position()
                notifications = self.app.recorder.select_notifications(start=start, limit=self.batch_size, topics=self.topics, inclusive_of_start=False)
                if not notifications:
                    return 0
                through = notifications[-1].id
                changes = self._changes(notifications)
                by = Actor(SYSTEM.actor_id, SYSTEM.role, None, correlation_id=f"milestones:{start + 1}-{through}")
                processing = ProcessingEvent(tracking=Tracking(self.name, through))
                processing.collect_events(*self._apply(changes, through, by))
                try:
                    self.app._record(processing)
                except RecordConflictError:
                    continue  # another runner or a command changed a contract: read again
                self.app._take_snapshots(processing)
                return len(notifications)
            # Not "nothing to do": the follower logs this and tries again on its next round.
            raise ConcurrentModification("the milestone process kept meeting concurrent writes")

    def _changes(self, notifications: list[Any]) -> dict[str, _Changes]:
        changes: dict[str, _Changes] = defaultdict(_Changes)
        for notification in notifications:
            e = self.app.mapper.to_domain_event(notification)
            if isinstance(e, Contract.Resumed):
                changes.setdefault(str(e.originator_id), _Changes())  # no new volume: check again
                continue
            delta = 1 if isinstance(e, Visit.Delivered) else e.volume_delta
            if delta:
                changes[e.contract_id].count(e.service_code, str(e.originator_id), delta, notification.id)
        return changes

    def _apply(self, changes: dict[str, _Changes], through: int, by: Actor) -> list[Any]:
        changed: list[Any] = []
        for contract_id, change in changes.items():
            tally: VolumeTally = self.app.repository.get(VolumeTally.create_id(contract_id=contract_id))
            contract: Contract = self.app.repository.get(uuid.UUID(tally.contract_id))
            # Visits are kept by name only while a pending milestone may still name them.
            kept = tally.kept_services()
            added = [a for a in change.added if contract.awaits_volume_of(a[0])]
            removed = [r for r in change.removed if r[0] in kept or contract.awaits_volume_of(r[0])]
            tally.add(dict(change.deltas), through, by, added=added, removed=removed)
            if contract.status == ACTIVE:
                for m in contract.volume_milestones():
                    delivered = tally.count_for(m["service_code"])
                    if m["status"] == PENDING and delivered >= m["quantity"]:
                        counted = tally.counted_for(m["service_code"], m["quantity"])
                        contract.fulfil_volume_milestone(m["milestone_id"], delivered, by, counted=counted)
            # Tallies kept before this rule shed their done services the first time they change.
            tally.forget([code for code in tally.kept_services() if not contract.awaits_volume_of(code)], by)
            changed += [tally, contract]
        return changed


@dataclass
class _Changes:
    """One contract's share of a batch: counts per service, and the visits that began or stopped
    counting, in log order."""

    deltas: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    added: list[list[Any]] = field(default_factory=list)
    removed: list[list[Any]] = field(default_factory=list)

    def count(self, service_code: str, visit_id: str, delta: int, position: int) -> None:
        self.deltas[service_code] += delta
        if delta > 0:
            self.added.append([service_code, visit_id, position])
        else:
            self.removed.append([service_code, visit_id])


class Follower:
    """Keeps the milestone process caught up with the log, off the request's path: a command only
    wakes it (in this process, or through a PostgreSQL notification in a `ledger follow` worker),
    and it polls as a safety net after restarts. `inline` runs it inside the command instead, so
    a visit's response already sees its milestone: for a small single-process deployment only,
    as every request then queues for the process's lock."""

    def __init__(
        self,
        process: MilestoneProcess,
        *,
        inline: bool,
        interval: float,
        on_error: Any = None,
        on_recovered: Any = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.process = process
        self.inline = inline
        self.loop = WorkerLoop(f"follow-{process.name}", process.run_once, interval=interval, max_backoff=max_backoff, on_error=on_error, on_recovered=on_recovered)

    def after_command(self) -> None:
        if self.inline:
            self.loop.run_until_idle()
        else:
            self.loop.wake()

    def catch_up(self) -> int:
        """Runs the process until it finds nothing new; a failure is reported, not raised."""
        return self.loop.run_until_idle()

    def wake(self) -> None:
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.loop.stop(timeout)
