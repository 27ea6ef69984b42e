"""The deployment's Ed25519 key and the checkpoints it signs.

The key is made on first start at the configured path (mode 0600, PKCS#8 PEM, unencrypted:
protect the file as the database's credentials are protected). Losing it only means later
checkpoints carry a new public key; checkpoints already handed out stay verifiable.
"""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.chain import CHECKPOINT_MESSAGE, checkpoint_message
from projections.chain.keeper import Head

ALGORITHM = "Ed25519"
HASH = "SHA-256"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} holds no Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once keep the first key, the second reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64."""
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the chain's head; auditors keep these outside the system."""

    position: int
    event_count: int
    head_hash: str  # hex
    time: str  # ISO 8601 UTC, exactly as signed
    signature: str  # base64
    public_key: str  # base64 raw Ed25519
    algorithm: str = ALGORITHM
    hash_algorithm: str = HASH
    signed_message: str = CHECKPOINT_MESSAGE

    def message(self) -> bytes:
        return checkpoint_message(self.position, self.event_count, bytes.fromhex(self.head_hash), self.time)

    def signature_valid(self) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key, validate=True))
            key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        try:
            checkpoint = cls(
                position=int(data["position"]),
                event_count=int(data["event_count"]),
                head_hash=str(data["head_hash"]),
                time=str(data["time"]),
                signature=str(data["signature"]),
                public_key=str(data["public_key"]),
            )
            bytes.fromhex(checkpoint.head_hash)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"not a checkpoint: {e!r}") from None
        return checkpoint


def sign(key: Ed25519PrivateKey, head: Head, now: datetime | None = None) -> Checkpoint:
    time = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    message = checkpoint_message(head.position, head.events, head.hash, time)
    return Checkpoint(
        position=head.position,
        event_count=head.events,
        head_hash=head.hash.hex(),
        time=time,
        signature=base64.b64encode(key.sign(message)).decode(),
        public_key=public_key_text(key.public_key()),
    )
