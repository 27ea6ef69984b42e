"""Bearer tokens: issued from the command line, or by a purchaser through the API; looked up on
every request (from the aggregate cache when it can answer without I/O) and revoked."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.contractors import Contractor
from ledger.domain.errors import ContractorNotFound, InvalidInput, NotFound, TokenNotFound
from ledger.domain.records import ApiToken, token_digest
from ledger.usecases.base import LedgerUseCases, P


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    role: str
    organisation_id: str | None
    subject: str
    position: int = 0


def _issuer(by: Actor | None) -> Actor:
    """Who issues or revokes a token: the purchaser through the API, else the command line."""
    return by or Actor(actor_id="cli", role=Role.SYSTEM.value, correlation_id=str(uuid.uuid4()))


class Tokens(LedgerUseCases):
    def issue_token(self, role: str, organisation_id: str | None, subject: str, by: Actor | None = None) -> IssuedToken:
        """A new bearer token; the secret is in the answer only. `by` is the purchaser who issues
        it through the API; None is the server's command line."""
        if by is not None:
            by.require(P)
        try:
            role = Role(role).value
        except ValueError:
            raise InvalidInput(f"unknown role {role!r}") from None
        if role == Role.SYSTEM.value:
            raise InvalidInput("the system role is not issued to people")
        limits.TOKEN_SUBJECT.check(subject, "subject")
        limits.TOKEN_ORGANISATION.check_optional(organisation_id, "organisation")
        if role == Role.CONTRACTOR.value:
            if not organisation_id:
                raise InvalidInput("a contractor token is bound to one organisation: give --org")
            self._load(Contractor, organisation_id, ContractorNotFound)
        token = "lgr_" + secrets.token_urlsafe(32)
        issuer = _issuer(by)
        record = ApiToken(digest=token_digest(token), subject=subject, role=role, organisation_id=organisation_id, by=issuer)
        recordings = self.save(record)
        position = max((r.notification.id for r in recordings), default=0) or self.head()
        return IssuedToken(token=token, token_id=str(record.id), role=role, organisation_id=organisation_id, subject=subject, position=position)

    def describe_tokens(self, by: Actor | None, token_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Role, organisation, subject and whether revoked, of each known token: never its digest.
        The ids come from an index (the audit trail's ApiToken rows); the state is the store's."""
        if by is not None:
            by.require(P)
        described = {}
        for token_id in token_ids:
            try:
                record = self._load(ApiToken, token_id, NotFound, readonly=True)
            except NotFound:
                continue
            described[token_id] = {
                "token_id": token_id,
                "role": record.role,
                "organisation_id": record.organisation_id,
                "subject": record.subject,
                "revoked": record.revoked,
            }
        return described

    def authenticate(self, token: str, correlation_id: str) -> Actor | None:
        try:
            record = self._fetch(ApiToken.create_id(digest=token_digest(token)), ApiToken)
        except AggregateNotFoundError:
            return None
        if not isinstance(record, ApiToken) or record.revoked:
            return None
        return Actor(actor_id=record.subject, role=record.role, organisation_id=record.organisation_id, correlation_id=correlation_id)

    def authenticate_from_cache(self, token: str, correlation_id: str) -> Actor | None | bool:
        """authenticate() without I/O: False when the answer needs the store (the token is not
        cached, or the cache has not followed the log within its refresh interval)."""
        if not self.cache.fresh():
            return False
        record = self.cache.get(ApiToken.create_id(digest=token_digest(token)), copy=False)
        if record is None:
            return False
        if not isinstance(record, ApiToken) or record.revoked:
            return None
        return Actor(actor_id=record.subject, role=record.role, organisation_id=record.organisation_id, correlation_id=correlation_id)

    def revoke_token(self, token_id: str, by: Actor | None = None) -> int:
        """Revokes the token (again is a no-op); it is refused from the next request on. The
        position of the revocation, or the head when it was revoked already."""
        if by is not None:
            by.require(P)
        record = self._load(ApiToken, token_id, TokenNotFound)
        record.revoke(by=_issuer(by))
        recordings = self.save(record)
        return max((r.notification.id for r in recordings), default=0) or self.head()
