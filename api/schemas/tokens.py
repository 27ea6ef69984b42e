"""Issuing, listing and revoking API tokens through the API (the purchaser's)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from api.schemas.common import Command, text
from api.schemas.reads import Answer
from ledger.domain import limits
from ledger.domain.catalogue import Role

# Every role a person holds; the system role is the ledger's own processes'.
IssuableRole = Literal["purchaser", "contractor", "finance", "auditor", "evaluator"]
assert set(IssuableRole.__args__) == {r.value for r in Role} - {Role.SYSTEM.value}  # type: ignore[attr-defined]


class IssueToken(Command):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "contractor", "organisation_id": "6f1c…(the contractor's id)", "subject": "coordinator-chen"}]})
    role: IssuableRole = Field(description="; ".join(f"{r.value}: {r.label.zh} / {r.label.en}" for r in Role if r is not Role.SYSTEM))  # type: ignore[union-attr]
    organisation_id: text(limits.TOKEN_ORGANISATION, min_length=1) | None = Field(  # type: ignore[valid-type]
        default=None, description="The contractor's id for a contractor token (required); the bureau's name for the others"
    )
    subject: text(limits.TOKEN_SUBJECT, min_length=1) = Field(description="Who holds the token: recorded on every event they cause")  # type: ignore[valid-type]


class IssuedToken(Answer):
    """The secret is shown here once: the ledger keeps only its digest."""

    token: str = Field(description="The bearer token; shown once, never again")
    token_id: str
    role: str
    organisation_id: str | None
    subject: str
    position: int


class TokenRow(Answer):
    token_id: str
    role: str
    organisation_id: str | None
    subject: str
    issued_at: datetime
    issued_by: str | None = Field(description="The purchaser officer who issued it, or `cli` for the server's command line")
    issued_position: int
    revoked: bool


class Revoked(Answer):
    token_id: str
    revoked: bool
    position: int
