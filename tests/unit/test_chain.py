"""The chain's canonical form and links, and the standalone verifier's mirror of them."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.chain import GENESIS, canonical, checkpoint_message, link
from projections.chain.keeper import Head
from projections.chain.signing import Checkpoint, sign
from tests.integration.tampering import standalone_verifier

EVENT = (7, uuid.UUID("12345678-1234-5678-1234-567812345678"), 3, "ledger.domain.visits:Visit.Posted", b'{"a":1}')


def test_the_canonical_form_is_length_prefixed_and_names_every_stored_field():
    form = canonical(*EVENT)
    assert form == (
        (7).to_bytes(8, "big")
        + (36).to_bytes(4, "big")
        + b"12345678-1234-5678-1234-567812345678"
        + (3).to_bytes(8, "big")
        + (33).to_bytes(4, "big")
        + b"ledger.domain.visits:Visit.Posted"
        + (7).to_bytes(4, "big")
        + b'{"a":1}'
    )


def test_moving_bytes_between_fields_changes_the_canonical_form():
    position, originator, version, topic, state = EVENT
    assert canonical(position, originator, version, topic + "x", state) != canonical(position, originator, version, topic, b"x" + state)


def test_the_first_link_hashes_32_zero_bytes_before_the_event():
    assert link(GENESIS, canonical(*EVENT)) == hashlib.sha256(bytes(32) + canonical(*EVENT)).digest()


def test_the_standalone_verifier_mirrors_the_canonical_form_and_the_signed_message():
    verifier = standalone_verifier()
    position, originator, version, topic, state = EVENT
    assert verifier.canonical(position, str(originator), version, topic, state) == canonical(*EVENT)
    assert verifier.canonical(-1, "x", 0, "", b"") == canonical(-1, "x", 0, "", b"")
    head = bytes(range(32))
    mirrored = verifier.MESSAGE.format(position=9, events=8, head=head.hex(), time="2026-01-01T00:00:00.000000Z").encode()
    assert mirrored == checkpoint_message(9, 8, head, "2026-01-01T00:00:00.000000Z")


def test_a_checkpoint_verifies_only_as_signed():
    checkpoint = sign(Ed25519PrivateKey.generate(), Head(position=40, hash=bytes(range(32)), events=38))
    assert checkpoint.signature_valid()
    assert Checkpoint.from_dict(checkpoint.as_dict()).signature_valid()
    for edit in ({"position": 41}, {"event_count": 37}, {"head_hash": bytes(32).hex()}, {"time": "2030-01-01T00:00:00.000000Z"}):
        assert not replace(checkpoint, **edit).signature_valid(), edit
    other = sign(Ed25519PrivateKey.generate(), Head(position=40, hash=bytes(range(32)), events=38))
    assert not replace(checkpoint, public_key=other.public_key).signature_valid()
