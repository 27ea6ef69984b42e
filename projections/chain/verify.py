"""Verification and export: recompute the chain from the stored events, read through the
library's recorder, and compare it with the links the keeper wrote and with a checkpoint.

The stored events and the kept links are walked together in position order, so every kind of
single-row change shows at its own position:
- altered:  the event's recomputed link differs from the kept one;
- deleted:  a kept link has no event any more;
- inserted: an event at or below the chain's head has no link (it was not there when chained).
Events after the chain's head are not yet chained: they are recomputed but prove nothing.
A checkpoint catches what the links cannot: links rewritten together with the events.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import IO, Any, NamedTuple

from sqlalchemy import Engine, select

from ledger.chain import GENESIS, link_notification
from projections.chain.keeper import Head
from projections.chain.signing import Checkpoint
from projections.chain.tables import chain_links

# What a forged row can make the canonical form fail with (e.g. text where a number belongs).
UNREADABLE = (struct.error, TypeError, ValueError, OverflowError, AttributeError)


class Entry(NamedTuple):
    position: int
    event: Any | None  # the library's Notification; None when only its link remains
    kept: bytes | None  # the link the keeper wrote; None when the event was never chained


def entries(recorder: Any, engine: Engine, batch_size: int = 5000) -> Iterator[Entry]:
    """Stored events and kept links merged by position, from the very first (even a forged
    position 0 or below) to the last of either."""
    for events, links in _batches(recorder, engine, batch_size):
        yield from _merge(events, links)


def _batches(recorder: Any, engine: Engine, batch_size: int) -> Iterator[tuple[list[Any], list[tuple[int, bytes]]]]:
    last: int | None = None
    while True:
        if last is None:
            events = recorder.select_notifications(start=None, limit=batch_size)
        else:
            events = recorder.select_notifications(start=last, limit=batch_size, inclusive_of_start=False)
        query = select(chain_links.c.position, chain_links.c.hash).order_by(chain_links.c.position)
        if last is not None:
            query = query.where(chain_links.c.position > last)
        # Links up to the batch's last event; past the last event, the links left, a page at a time.
        query = query.where(chain_links.c.position <= events[-1].id) if events else query.limit(batch_size)
        with engine.connect() as conn:
            links = [(p, bytes(h)) for p, h in conn.execute(query).all()]
        if not events and not links:
            return
        yield list(events), links
        last = events[-1].id if events else links[-1][0]


def _merge(events: list[Any], links: list[tuple[int, bytes]]) -> Iterator[Entry]:
    i = j = 0
    while i < len(events) or j < len(links):
        event_pos = events[i].id if i < len(events) else None
        link_pos = links[j][0] if j < len(links) else None
        if event_pos is not None and (link_pos is None or event_pos < link_pos):
            yield Entry(event_pos, events[i], None)
            i += 1
        elif event_pos is None or link_pos < event_pos:  # type: ignore[operator]
            yield Entry(link_pos, None, links[j][1])  # type: ignore[arg-type]
            j += 1
        else:
            yield Entry(event_pos, events[i], links[j][1])
            i += 1
            j += 1


@dataclass
class CheckpointResult:
    position: int
    signature_valid: bool
    signed_by_this_deployment: bool | None
    matches: bool | None = None  # None: the walk stopped at a problem before reaching it


@dataclass
class Report:
    intact: bool
    verified_through: int  # the last position whose recomputed link matched the kept one
    events_verified: int
    chain_position: int
    unchained_events: int
    first_bad_position: int | None
    problem: str | None  # altered | deleted | inserted | checkpoint_mismatch | checkpoint_signature
    detail: str
    checkpoint: CheckpointResult | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify(recorder: Any, engine: Engine, head: Head, checkpoint: Checkpoint | None = None, deployment_key: str | None = None) -> Report:
    cp = None
    if checkpoint is not None:
        same_key = None if deployment_key is None else checkpoint.public_key == deployment_key
        cp = CheckpointResult(checkpoint.position, checkpoint.signature_valid(), same_key)
    current, count, through, verified, unchained = GENESIS, 0, 0, 0, 0
    problem: tuple[str, int | None, str] | None = None

    def check_checkpoint() -> tuple[str, int | None, str] | None:
        if cp is None or checkpoint is None:
            return None
        cp.matches = current.hex() == checkpoint.head_hash and count == checkpoint.event_count
        if cp.matches:
            return None
        return (
            "checkpoint_mismatch",
            None,
            f"the log through position {checkpoint.position} no longer gives the signed head hash and event count: events and links were rewritten together at or before it",
        )

    for entry in entries(recorder, engine):
        if cp is not None and cp.matches is None and entry.position > cp.position:
            if problem := check_checkpoint():
                break
        if entry.event is None:
            problem = ("deleted", entry.position, f"the event at position {entry.position} was chained but is no longer in the log")
            break
        if entry.kept is None and entry.position <= head.position:
            problem = ("inserted", entry.position, f"the event at position {entry.position} was not in the log when the chain passed it")
            break
        try:
            current = link_notification(current, entry.event)
        except UNREADABLE:
            problem = ("altered", entry.position, f"the event at position {entry.position} no longer has the form the library writes")
            break
        count += 1
        if entry.kept is None:
            unchained += 1
        elif current != entry.kept:
            problem = ("altered", entry.position, f"the event at position {entry.position} differs from the one chained")
            break
        else:
            through, verified = entry.position, verified + 1
    else:
        if cp is not None and cp.matches is None:
            problem = check_checkpoint()
    if problem is None and cp is not None and not cp.signature_valid:
        problem = ("checkpoint_signature", None, "the checkpoint's signature does not verify with its public key: it proves nothing")
    if problem is None:
        detail = f"the log is intact up to position {through} ({verified} events)"
        if unchained:
            detail += f"; {unchained} later events are not chained yet"
        return Report(True, through, verified, head.position, unchained, None, None, detail, cp)
    kind, position, detail = problem
    return Report(False, through, verified, head.position, unchained, position, kind, detail, cp)


def export(recorder: Any, engine: Engine, out: IO[str]) -> int:
    """Writes the log as JSON Lines, one line per position: the event's canonical fields and the
    kept link ("hash", null when not chained), or {"position", "hash", "missing": true} where
    only the link remains. Returns the number of lines."""
    lines = 0
    for entry in entries(recorder, engine):
        kept = entry.kept.hex() if entry.kept is not None else None
        e = entry.event
        if e is None:
            record: dict[str, Any] = {"position": entry.position, "hash": kept, "missing": True}
        else:
            state = e.state.encode("utf-8", "surrogatepass") if isinstance(e.state, str) else bytes(e.state)
            record = {
                "position": e.id,
                "originator_id": str(e.originator_id),
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": base64.b64encode(state).decode(),
                "hash": kept,
            }
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        lines += 1
    return lines
