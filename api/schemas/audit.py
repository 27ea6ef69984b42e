"""Tamper evidence: signed checkpoints of the hash chain and verification reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ledger.chain import CHECKPOINT_MESSAGE

HEX32 = r"^[0-9a-fA-F]{64}$"


class CheckpointBody(BaseModel):
    """A checkpoint as GET /audit/checkpoint gave it (the extra descriptive fields may be left out)."""

    model_config = ConfigDict(extra="ignore")
    position: int = Field(ge=0, le=2**63 - 1, description="The last chained position of the global log")
    event_count: int = Field(ge=0, le=2**63 - 1, description="How many events the chain holds through `position`")
    head_hash: str = Field(pattern=HEX32, description="SHA-256 chain link at `position`, hex")
    time: str = Field(max_length=64, description="When it was signed, ISO 8601 UTC, exactly as signed")
    signature: str = Field(max_length=200, description="Ed25519 signature of the signed message, base64")
    public_key: str = Field(max_length=200, description="The deployment's Ed25519 public key, raw 32 bytes, base64")


class Checkpoint(CheckpointBody):
    algorithm: str = Field(description="Signature algorithm: Ed25519")
    hash_algorithm: str = Field(description="Chain hash: SHA-256")
    signed_message: str = Field(description=f"The UTF-8 text that is signed, with the fields filled in: {CHECKPOINT_MESSAGE!r}")


class CheckpointResult(BaseModel):
    position: int
    signature_valid: bool
    signed_by_this_deployment: bool | None = Field(description="Whether the checkpoint's key is this deployment's current key")
    matches: bool | None = Field(description="Whether the log through its position gives its head hash and count; null if a problem came first")


class Verification(BaseModel):
    intact: bool
    verified_through: int = Field(description="The last position whose recomputed link matched the kept one")
    events_verified: int
    chain_position: int = Field(description="The chain's head when verification began")
    unchained_events: int = Field(description="Events after the chain's head, recomputed but not yet chained")
    first_bad_position: int | None = Field(description="The first position that no longer matches")
    problem: str | None = Field(description="altered, deleted, inserted, checkpoint_mismatch or checkpoint_signature")
    detail: str
    checkpoint: CheckpointResult | None = None
