#!/usr/bin/env python3
"""Checks a ledger export (`ledger audit export FILE`) against a signed checkpoint, without the
service or its database. Needs Python 3.11+ and the `cryptography` package, nothing else.

    python3 tools/verify_export.py EXPORT.jsonl CHECKPOINT.json [--public-key BASE64]

Give --public-key (the deployment's key, obtained independently) so that a checkpoint signed by
another key is refused. Exit 0: intact; 1: a problem, named with its first position; 2: bad input.
The canonical form and the checkpoint message mirror src/ledger/chain.py of the ledger.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = bytes(32)
MESSAGE = "ledger-chain-checkpoint/1\nposition={position}\nevents={events}\nhead={head}\ntime={time}\n"


def canonical(position: int, originator_id: str, originator_version: int, topic: str, state: bytes) -> bytes:
    def text(value: str) -> bytes:
        raw = value.encode("utf-8", "surrogatepass")
        return struct.pack(">I", len(raw)) + raw

    return b"".join((struct.pack(">q", position), text(originator_id), struct.pack(">q", originator_version), text(topic), struct.pack(">I", len(state)), state))


def check_signature(cp: dict, pinned_key: str | None) -> str | None:
    if pinned_key is not None and cp["public_key"] != pinned_key:
        return "the checkpoint is signed by another key than the one given"
    message = MESSAGE.format(position=cp["position"], events=cp["event_count"], head=cp["head_hash"], time=cp["time"]).encode()
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(cp["public_key"])).verify(base64.b64decode(cp["signature"]), message)
    except (InvalidSignature, ValueError):
        return "the checkpoint's signature does not verify"
    return None


def verify(lines, cp: dict) -> tuple[bool, int | None, str]:
    """Returns (intact, first bad position or None, what was found)."""
    current, count, through, unchained_from, checked = GENESIS, 0, 0, None, False

    def matches_checkpoint() -> bool:
        return (current.hex(), count) == (cp["head_hash"], cp["event_count"])

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            position, kept = int(r["position"]), r.get("hash")
        except (ValueError, KeyError, TypeError) as e:
            return False, None, f"line {number} is not an export record ({e!r})"
        if not checked and position > cp["position"]:
            if not matches_checkpoint():
                return False, None, f"the export through position {cp['position']} does not match the checkpoint's head hash and event count"
            checked = True
        if unchained_from is not None and kept is not None:
            return False, unchained_from, f"position {unchained_from}: an event that was not there when the chain passed it (inserted)"
        if r.get("missing"):
            return False, position, f"position {position}: a chained event is missing (deleted)"
        try:
            state = base64.b64decode(r["state"], validate=True)
            form = canonical(position, str(r["originator_id"]), int(r["originator_version"]), str(r["topic"]), state)
        except (ValueError, KeyError, TypeError, struct.error) as e:
            return False, position, f"position {position}: the record cannot be read ({e!r})"
        current = hashlib.sha256(current + form).digest()
        count += 1
        if kept is None:
            unchained_from = position if unchained_from is None else unchained_from
        elif current.hex() != kept:
            return False, position, f"position {position}: the event differs from the one chained (altered)"
        else:
            through = position
    if not checked and not matches_checkpoint():
        return False, None, f"the export, which ends before passing position {cp['position']}, does not match the checkpoint's head hash and event count"
    return True, None, f"intact up to position {through} ({count} events); the checkpoint at position {cp['position']} matches"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("export")
    p.add_argument("checkpoint")
    p.add_argument("--public-key", help="the deployment's Ed25519 public key, base64 (raw 32 bytes)")
    args = p.parse_args(argv)
    try:
        with open(args.checkpoint, encoding="utf-8") as f:
            cp = json.load(f)
        cp = {
            "position": int(cp["position"]),
            "event_count": int(cp["event_count"]),
            "head_hash": str(cp["head_hash"]).lower(),
            "time": str(cp["time"]),
            "signature": str(cp["signature"]),
            "public_key": str(cp["public_key"]),
        }
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"error: cannot read the checkpoint: {e!r}", file=sys.stderr)
        return 2
    if problem := check_signature(cp, args.public_key):
        print(f"NOT VERIFIED: {problem}")
        return 1
    try:
        with open(args.export, encoding="utf-8") as f:
            intact, position, found = verify(f, cp)
    except OSError as e:
        print(f"error: cannot read the export: {e!r}", file=sys.stderr)
        return 2
    if intact:
        print(f"VERIFIED: {found}")
        return 0
    print(f"NOT VERIFIED: {found}" + (f" [first bad position {position}]" if position is not None else ""))
    return 1


if __name__ == "__main__":
    sys.exit(main())
