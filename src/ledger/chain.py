"""The hash chain over the global log, as pure computation (standard library only).

Canonical byte form of one stored event, taken from the library's stored record exactly as
stored (never from the decoded domain event, so a change of transcoder cannot move a hash):

    int64_be(position)                       notification id; may be negative in a forged row
    uint32_be(len(id)) || id                 originator id as text: str(UUID), UTF-8
    int64_be(originator_version)
    uint32_be(len(topic)) || topic           UTF-8
    uint32_be(len(state)) || state           the stored state bytes, as stored

Every variable-length field is length-prefixed, so no two events share a canonical form.
Links: h(first) = SHA-256(32 zero bytes || canonical(first)), h(n) = SHA-256(h(prev) || canonical(n)),
in log order over the events that exist (positions may have gaps).

A checkpoint signs this UTF-8 text with the deployment's Ed25519 key (CHECKPOINT_MESSAGE):

    ledger-chain-checkpoint/1\\nposition=P\\nevents=N\\nhead=HEX\\ntime=ISO\\n

tools/verify_export.py mirrors these definitions without importing the project; a test keeps
the two equal.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

GENESIS = bytes(32)
CHECKPOINT_MESSAGE = "ledger-chain-checkpoint/1\nposition={position}\nevents={events}\nhead={head}\ntime={time}\n"


_NUMBER_AND_LENGTH = struct.Struct(">qI")
_LENGTH = struct.Struct(">I")


def canonical(position: int, originator_id: Any, originator_version: int, topic: str, state: bytes | str) -> bytes:
    # A forged SQLite row may hold text where the library writes a blob: hash what is there.
    blob = state.encode("utf-8", "surrogatepass") if isinstance(state, str) else bytes(state)
    oid = str(originator_id).encode("utf-8", "surrogatepass")
    name = topic.encode("utf-8", "surrogatepass")
    # Field order as documented above: the fixed-size number before each length-prefixed text.
    return b"".join((_NUMBER_AND_LENGTH.pack(position, len(oid)), oid, _NUMBER_AND_LENGTH.pack(originator_version, len(name)), name, _LENGTH.pack(len(blob)), blob))


def link(previous: bytes, canonical_form: bytes) -> bytes:
    return hashlib.sha256(previous + canonical_form).digest()


def link_notification(previous: bytes, notification: Any) -> bytes:
    """The next link after `previous` for one of the library's stored notifications."""
    n = notification
    return link(previous, canonical(n.id, n.originator_id, n.originator_version, n.topic, n.state))


def checkpoint_message(position: int, events: int, head: bytes, time: str) -> bytes:
    return CHECKPOINT_MESSAGE.format(position=position, events=events, head=head.hex(), time=time).encode("utf-8")
