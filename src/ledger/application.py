"""The ledger's use cases: one method per command, simple types in and out.

Every aggregate lives in this one application, so the global log has one total order that the
milestone process, the read models and (later) the hash chain follow. Library errors are
translated into domain errors here; aggregates that change together are saved in one `save()`.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from ledger.as_of import AsOfReads
from ledger.bulk_visits import BulkVisits
from ledger.cache import AggregateCache
from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, utcnow
from ledger.domain.beneficiaries import Beneficiary, national_id_hash
from ledger.domain.cases import Case
from ledger.domain.catalogue import Role, TerminationReason
from ledger.domain.contractors import Contractor
from ledger.domain.contracts import Contract
from ledger.domain.errors import (
    BeneficiaryAlreadyRegistered,
    BeneficiaryNotFound,
    CaseNotFound,
    ConcurrentModification,
    ContractNotFound,
    ContractorAlreadyRegistered,
    ContractorNotFound,
    EvaluationNotFound,
    FundCapExceeded,
    FundNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    NotFound,
    TokenNotFound,
    VisitNotFound,
)
from ledger.domain.evaluations import Evaluation
from ledger.domain.funds import Fund, PurchaseCeiling
from ledger.domain.records import ApiToken, IdempotencyRecord, VolumeTally, token_digest
from ledger.domain.rules import Policy
from ledger.domain.visits import Visit
from ledger.positions import first_position
from ledger.visit_rules import deliver_visit

P, F, C, A, E = Role.PURCHASER, Role.FINANCE, Role.CONTRACTOR, Role.AUDITOR, Role.EVALUATOR
READERS = (P, F, A, E, C)
A_ = TypeVar("A_", bound=LedgerAggregate)


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor.from_dict(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Request:
    """An Idempotency-Key and a fingerprint of the request body it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class CommandResult:
    ids: dict[str, Any]
    position: int
    replayed: bool = False


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


@dataclass
class _Work:
    aggregates: list[Aggregate | None] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)


class Ledger(BulkVisits, AsOfReads, Application):
    name = "Ledger"
    # Snapshots keep long-lived streams cheap to load.
    snapshotting_intervals = {Contract: 50, Contractor: 50, Fund: 50, VolumeTally: 50, PurchaseCeiling: 50}
    max_attempts = 3
    # Read as LEDGER_AGGREGATE_CACHE_SIZE etc. (the library's Environment adds the app's name).
    AGGREGATE_CACHE_SIZE = "AGGREGATE_CACHE_SIZE"
    AGGREGATE_CACHE_REFRESH_SECONDS = "AGGREGATE_CACHE_REFRESH_SECONDS"

    def __init__(self, env: dict[str, str] | None = None, *, policy: Policy | None = None, id_hash_key: bytes = b"") -> None:
        super().__init__(env)
        if not id_hash_key:
            raise ValueError("the ledger needs a key to hash national ID numbers")
        self.policy = policy or Policy()
        self.id_hash_key = id_hash_key
        self.cache = self._construct_cache()
        # The versions of what the running command validated against, per thread (see _execute).
        self._reading = threading.local()

    def _construct_cache(self) -> AggregateCache:
        changed_since = getattr(self.recorder, "select_changed_ids", None)
        size = int(self.env.get(self.AGGREGATE_CACHE_SIZE) or 10000) if changed_since else 0
        # SQLite polls in-process (cheap): on every read; PostgreSQL at most every 5 ms (a round
        # trip), so another process's change (a revoked token) shows here within 5 ms.
        default_interval = "0.005" if "postgres" in type(self.factory).__module__ else "0"
        interval = float(self.env.get(self.AGGREGATE_CACHE_REFRESH_SECONDS) or default_interval)
        start = (self.recorder.max_notification_id() or 0) if size else 0
        return AggregateCache(changed_since or (lambda after, limit: []), start, size, interval)

    # --- infrastructure -----------------------------------------------------------------------
    def construct_recorder(self):  # type: ignore[no-untyped-def]
        # A process recorder: the milestone process saves its events and its tracking position
        # in one transaction of this same application.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DateAsISO())

    def _record(self, processing_event):  # type: ignore[no-untyped-def]
        # What this process saves (or failed to save) is evicted at once, so its own next read
        # sees it without waiting for the cache to follow the log.
        # Only those with new events: the milestone process passes its contracts every round.
        try:
            return super()._record(processing_event)
        finally:
            self.cache.evict({e.originator_id for e in processing_event.events})

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _fetch(self, aggregate_id: uuid.UUID, cls: type | None = None, *, readonly: bool = False) -> Any:
        """The aggregate, from the cache or the store, and noted in the running command's read
        set. Kinds never snapshotted are read without probing the snapshot store. `readonly`
        hands out the cached object itself, uncopied: only for a caller that never changes it."""
        self.cache.refresh()
        agg = self.cache.get(aggregate_id, copy=not readonly)
        if agg is None:
            loaded_after = self.cache.seen
            if cls is None or cls in self.snapshotting_intervals:
                agg = self.repository.get(aggregate_id)
            else:
                agg = project_aggregate(None, self.events.get(aggregate_id))
                if agg is None:
                    raise AggregateNotFoundError(aggregate_id)
            self.cache.put(agg, loaded_after)
        read_set = getattr(self._reading, "versions", None)
        if read_set is not None:
            read_set.setdefault(agg.id, agg.version)
        return agg

    def _load(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None, *, readonly: bool = False) -> A_:
        try:
            agg = self._fetch(_uuid(aggregate_id, missing), cls, readonly=readonly)
        except AggregateNotFoundError:
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}") from None
        if not isinstance(agg, cls):
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}")
        if by is not None and not by.can_see(agg.owner_organisation):
            # Another organisation's object does not exist, as far as a contractor can tell.
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}")
        return agg

    def _load_readonly(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None) -> A_:
        """`_load` for a command that only checks what it loads: the cached object, uncopied."""
        return self._load(cls, aggregate_id, missing, by, readonly=True)

    def _execute(self, by: Actor, request: Request | None, work: Callable[[], _Work]) -> CommandResult:
        """Runs a command: load, check, save; retried when another writer got there first.

        With an idempotency key the record is saved in the same transaction as the command's
        events, so a retry of the same request finds it and replays the first response. A retry
        that races its first attempt may see that attempt's effects (a tranche already released)
        or lose the save to it: it looks for the replay again before refusing.

        The first attempt does not read the record first: a retried request does its work again
        and its save conflicts on the record's id, and the next attempt finds the replay. Every
        aggregate loaded through _load goes into the command's read set, checked by the save under
        the store's lock: a rule is never decided on a stale (cached or raced) copy."""
        for attempt in range(self.max_attempts):
            if attempt:
                replay = self._replay(by, request)
                if replay is not None:
                    return replay
            self._reading.versions = read = {}
            try:
                done = work()
            except LedgerError:
                replay = self._replay(by, request)
                if replay is not None:
                    return replay
                raise
            finally:
                self._reading.versions = None
            record = None
            if request is not None:
                record = IdempotencyRecord(scope=_scope(by), key=request.key, fingerprint=request.fingerprint, result=to_plain(done.ids), by=by)
            saved = {a.id for a in done.aggregates if a is not None}
            read_set = [(i, v) for i, v in read.items() if i not in saved]
            try:
                recordings = self.save(*done.aggregates, record, read_set=read_set)
            except RecordConflictError:
                self.cache.evict(read)  # what we read was stale or raced: read it afresh
                continue
            position = max((r.notification.id for r in recordings), default=0) or self.head()
            return CommandResult(ids=to_plain(done.ids), position=position)
        replay = self._replay(by, request)
        if replay is not None:
            return replay
        raise ConcurrentModification()

    def _replay(self, by: Actor, request: Request | None) -> CommandResult | None:
        if request is None:
            return None
        record_id = IdempotencyRecord.create_id(scope=_scope(by), key=request.key)
        try:
            record = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        if record.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused(f"Idempotency-Key {request.key!r} was used with a different request")
        position = first_position(self.recorder, record_id) or self.head()
        return CommandResult(ids=record.result, position=position, replayed=True)

    def _new(self, aggregate: Aggregate, exists: type[Exception], detail: str) -> None:
        if aggregate.id in self.repository:
            raise exists(detail)

    # --- tokens (issued from the command line, or by a purchaser through the API) --------------
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

    # --- funds ---------------------------------------------------------------------------------
    def declare_purchase_ceiling(self, by: Actor, fiscal_year: int, prior_year_subsidy_total: Decimal, request: Request | None = None) -> CommandResult:
        by.require(F, P)

        def work() -> _Work:
            ceiling = PurchaseCeiling.declare(fiscal_year, prior_year_subsidy_total, self.policy, by)
            self._new(ceiling, InvalidInput, f"the purchase ceiling of {fiscal_year} is already declared")
            return _Work([ceiling], {"fiscal_year": fiscal_year, "ceiling": ceiling.ceiling})

        return self._execute(by, request, work)

    def appropriate_fund(self, by: Actor, name: str, source: str, fiscal_year: int, amount: Decimal, request: Request | None = None) -> CommandResult:
        by.require(F, P)

        def work() -> _Work:
            fund = Fund.appropriate(name, source, fiscal_year, amount, by)
            try:
                ceiling = self.repository.get(PurchaseCeiling.create_id(fiscal_year=fiscal_year))
            except AggregateNotFoundError:
                raise FundCapExceeded(f"declare last year's subsidy total for {fiscal_year} first") from None
            ceiling.take(str(fund.id), fund.amount, by)
            return _Work([fund, ceiling], {"fund_id": fund.id})

        return self._execute(by, request, work)

    def get_fund(self, by: Actor, fund_id: str) -> dict[str, Any]:
        by.require(P, F, A, E)
        return self._load(Fund, fund_id, FundNotFound).as_dict()

    # --- contractors ---------------------------------------------------------------------------
    def register_contractor(self, by: Actor, name: str, contractor_type: str, credit_code: str, attestations: list[str], request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = Contractor.register(name, contractor_type, credit_code, attestations, by)
            self._new(contractor, ContractorAlreadyRegistered, f"credit code {credit_code} is already registered")
            return _Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def _contractor_for_change(self, by: Actor, contractor_id: str) -> Contractor:
        return self._load(Contractor, contractor_id, ContractorNotFound, by)

    def attest_contractor(self, by: Actor, contractor_id: str, attestations: list[str], request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.attest(attestations, by)
            return _Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def enrol_worker(self, by: Actor, contractor_id: str, name: str, qualification: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            worker_id = str(uuid.uuid4())
            contractor.enrol_worker(worker_id, name, qualification, by)
            return _Work([contractor], {"contractor_id": contractor.id, "worker_id": worker_id})

        return self._execute(by, request, work)

    def remove_worker(self, by: Actor, contractor_id: str, worker_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.remove_worker(worker_id, reason, self.policy, by)
            return _Work([contractor], {"contractor_id": contractor.id, "worker_id": worker_id})

        return self._execute(by, request, work)

    def suspend_contractor(self, by: Actor, contractor_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.suspend(reason, by)
            return _Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def reinstate_contractor(self, by: Actor, contractor_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.reinstate(by)
            return _Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def debar_contractor(self, by: Actor, contractor_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.debar(reason, self.policy, by)
            return _Work([contractor], {"contractor_id": contractor.id, "debarred_until": contractor.debarred_until})

        return self._execute(by, request, work)

    def get_contractor(self, by: Actor, contractor_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Contractor, contractor_id, ContractorNotFound, by).as_dict()

    # --- beneficiaries -------------------------------------------------------------------------
    def register_beneficiary(
        self,
        by: Actor,
        national_id: str,
        name: str,
        household_id: str,
        category: str,
        township: str,
        village: str,
        self_care_level: str,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            person = Beneficiary.register(
                national_id=national_id,
                id_hash_key=self.id_hash_key,
                name=name,
                household_id=household_id,
                category=category,
                township=township,
                village=village,
                self_care_level=self_care_level,
                by=by,
            )
            self._new(person, BeneficiaryAlreadyRegistered, "a beneficiary with this national ID number is already registered")
            return _Work([person], {"beneficiary_id": person.id})

        return self._execute(by, request, work)

    def find_beneficiary(self, by: Actor, national_id: str) -> dict[str, Any]:
        """Matching by national ID goes through the keyed hash; the number itself is never kept."""
        by.require(P, A)
        # Shape only: a person registered before check digits were verified stays findable by the
        # number as registered (a mistyped number simply finds nobody).
        digest = national_id_hash(national_id, self.id_hash_key, check_digit=False)
        beneficiary_id = Beneficiary.create_id(national_id_hash=digest)
        return self.get_beneficiary(by, str(beneficiary_id))

    def _beneficiary(self, by: Actor, beneficiary_id: str) -> Beneficiary:
        person = self._load(Beneficiary, beneficiary_id, BeneficiaryNotFound)
        if by.is_contractor and not person.served_by(by.organisation_id):
            raise BeneficiaryNotFound(f"no beneficiary {beneficiary_id}")
        return person

    def _change_beneficiary(self, by: Actor, beneficiary_id: str, request: Request | None, change: Callable[[Beneficiary], None]) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            person = self._beneficiary(by, beneficiary_id)
            change(person)
            return _Work([person], {"beneficiary_id": person.id})

        return self._execute(by, request, work)

    def assess_needs(self, by: Actor, beneficiary_id: str, scores: dict[str, int], request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.assess_needs(scores, by))

    def change_category(self, by: Actor, beneficiary_id: str, category: str, direction: str, reason: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.change_category(category, direction, reason, by))

    def reassess_self_care(self, by: Actor, beneficiary_id: str, self_care_level: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.reassess_self_care(self_care_level, by))

    def deregister_beneficiary(self, by: Actor, beneficiary_id: str, reason: str, note: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.deregister(reason, note, by))

    def get_beneficiary(self, by: Actor, beneficiary_id: str) -> dict[str, Any]:
        by.require(*READERS)
        d = self._beneficiary(by, beneficiary_id).as_dict()
        d.pop("national_id_hash", None)
        # A person referred to several contractors: each contractor sees its own referrals only.
        d["cases"] = {case: contractor for case, contractor in d["cases"].items() if by.can_see(contractor)}
        return d

    # --- contracts -----------------------------------------------------------------------------
    def sign_contract(
        self,
        by: Actor,
        *,
        contract_no: str,
        title: str,
        contractor_id: str,
        fund_id: str,
        procurement_method: str,
        start_date: date,
        end_date: date,
        lines: list[dict[str, Any]],
        milestones: list[dict[str, Any]],
        tranches: list[dict[str, Any]],
        natural_person_justified: bool = False,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contractor = self._load(Contractor, contractor_id, ContractorNotFound)
            contractor.check_eligible(allow_natural_person=natural_person_justified)
            fund = self._load(Fund, fund_id, FundNotFound)
            contract = Contract.sign(
                contract_no=contract_no,
                title=title,
                purchaser_org=by.organisation_id or "",
                contractor_id=str(contractor.id),
                fund_id=str(fund.id),
                procurement_method=procurement_method,
                start_date=start_date,
                end_date=end_date,
                lines=lines,
                milestones=milestones,
                tranches=tranches,
                policy=self.policy,
                by=by,
            )
            fund.commit(str(contract.id), contract.budget, by)
            tally = VolumeTally(contract_id=str(contract.id), by=by)
            ids = {
                "contract_id": contract.id,
                "milestone_ids": list(contract.milestones),
                "tranche_ids": list(contract.tranches),
            }
            return _Work([contract, fund, tally], ids)

        return self._execute(by, request, work)

    def _change_contract(self, by: Actor, contract_id: str, request: Request | None, change: Callable[[Contract], list[Aggregate] | None], **ids: Any) -> CommandResult:
        def work() -> _Work:
            contract = self._load(Contract, contract_id, ContractNotFound, by)
            others = change(contract) or []
            return _Work([contract, *others], {"contract_id": contract.id, **ids})

        return self._execute(by, request, work)

    def confirm_date_milestone(self, by: Actor, contract_id: str, milestone_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.confirm_date_milestone(milestone_id, utcnow().date(), by), milestone_id=milestone_id)

    def release_tranche(self, by: Actor, contract_id: str, tranche_id: str, request: Request | None = None) -> CommandResult:
        """Pays a tranche whose milestone is fulfilled; contract and fund change together. Nothing
        is paid to a suspended or debarred contractor: the tranche waits for reinstatement, or is
        withheld."""
        by.require(F)

        def change(contract: Contract) -> list[Aggregate]:
            self._load(Contractor, contract.contractor_id, ContractorNotFound).check_in_good_standing()
            amount = contract.release_tranche(tranche_id, self.policy, by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            if amount > 0:
                fund.disburse(str(contract.id), tranche_id, amount, by)
            return [fund]

        return self._change_contract(by, contract_id, request, change, tranche_id=tranche_id)

    def reduce_tranche(self, by: Actor, contract_id: str, tranche_id: str, amount: Decimal, reason: str, request: Request | None = None) -> CommandResult:
        by.require(F, P)
        return self._change_contract(by, contract_id, request, lambda c: c.reduce_tranche(tranche_id, amount, reason, by), tranche_id=tranche_id)

    def withhold_tranche(self, by: Actor, contract_id: str, tranche_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(F, P)
        return self._change_contract(by, contract_id, request, lambda c: c.withhold_tranche(tranche_id, reason, by), tranche_id=tranche_id)

    def suspend_contract(self, by: Actor, contract_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.suspend(reason, by))

    def resume_contract(self, by: Actor, contract_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.resume(by))

    def terminate_contract(self, by: Actor, contract_id: str, reason: str, note: str, request: Request | None = None) -> CommandResult:
        """Fraud terminates the contract and debars the contractor; the unspent commitment returns to the fund."""
        by.require(P)

        def change(contract: Contract) -> list[Aggregate]:
            contract.terminate(reason, note, by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            fund.release_commitment(str(contract.id), f"contract terminated: {reason}", by)
            changed: list[Aggregate] = [fund]
            if reason == TerminationReason.FRAUD.value:
                contractor = self._load(Contractor, contract.contractor_id, ContractorNotFound)
                contractor.debar(f"fraud on contract {contract.contract_no}: {note}", self.policy, by)
                changed.append(contractor)
            return changed

        return self._change_contract(by, contract_id, request, change)

    def accept_contract(self, by: Actor, contract_id: str, note: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.accept(self.policy, note, by))

    def settle_contract(self, by: Actor, contract_id: str, request: Request | None = None) -> CommandResult:
        by.require(F)

        def change(contract: Contract) -> list[Aggregate]:
            contract.settle(by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            fund.release_commitment(str(contract.id), "contract settled", by)
            return [fund]

        return self._change_contract(by, contract_id, request, change)

    def get_contract(self, by: Actor, contract_id: str) -> dict[str, Any]:
        by.require(*READERS)
        d = self._load(Contract, contract_id, ContractNotFound, by).as_dict()
        tally = self.repository.get(VolumeTally.create_id(contract_id=str(d["id"])))
        d["delivered"] = dict(tally.counts)
        return d

    # --- referrals and cases -------------------------------------------------------------------
    def refer_case(
        self,
        by: Actor,
        *,
        beneficiary_id: str,
        contract_id: str,
        services: list[str],
        channel: str,
        visit_interval_days: int = 30,
        note: str = "",
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            person = self._load(Beneficiary, beneficiary_id, BeneficiaryNotFound)
            contract = self._load(Contract, contract_id, ContractNotFound)
            contract.check_active()
            for code in services:
                contract.check_service(code)
            case = Case.refer(
                beneficiary_id=str(person.id),
                contract_id=str(contract.id),
                contractor_id=contract.contractor_id,
                services=services,
                channel=channel,
                visit_interval_days=visit_interval_days,
                self_care_level=person.self_care_level,
                township=person.township,
                village=person.village,
                note=note,
                by=by,
            )
            person.refer(str(case.id), contract.contractor_id, by)
            return _Work([case, person], {"case_id": case.id})

        return self._execute(by, request, work)

    def _change_case(self, by: Actor, case_id: str, request: Request | None, change: Callable[[Case], list[Aggregate] | None]) -> CommandResult:
        def work() -> _Work:
            case = self._load(Case, case_id, CaseNotFound, by)
            others = change(case) or []
            return _Work([case, *others], {"case_id": case.id})

        return self._execute(by, request, work)

    def accept_case(self, by: Actor, case_id: str, request: Request | None = None) -> CommandResult:
        """The contractor takes the case, if its enrolled workers can carry it at the carer ratios."""
        by.require(C)

        def change(case: Case) -> list[Aggregate]:
            contract = self._load(Contract, case.contract_id, ContractNotFound)
            contract.check_active()
            self._load(Beneficiary, case.beneficiary_id, BeneficiaryNotFound).check_active()
            contractor = self._load(Contractor, case.contractor_id, ContractorNotFound)
            contractor.check_in_good_standing()
            case.accept(by)
            contractor.take_case(str(case.id), case.self_care_level, self.policy, by)
            return [contractor]

        return self._change_case(by, case_id, request, change)

    def decline_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(C)
        return self._change_case(by, case_id, request, lambda c: c.decline(reason, by))

    def _release_from_caseload(self, case: Case, by: Actor) -> list[Aggregate]:
        contractor = self._load(Contractor, case.contractor_id, ContractorNotFound)
        contractor.release_case(str(case.id), by)
        return [contractor]

    def withdraw_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def change(case: Case) -> list[Aggregate]:
            case.withdraw(reason, by)
            return self._release_from_caseload(case, by)

        return self._change_case(by, case_id, request, change)

    def close_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def change(case: Case) -> list[Aggregate]:
            case.close(reason, by)
            return self._release_from_caseload(case, by)

        return self._change_case(by, case_id, request, change)

    def get_case(self, by: Actor, case_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Case, case_id, CaseNotFound, by).as_dict()

    # --- visits --------------------------------------------------------------------------------
    def record_visit(
        self,
        by: Actor,
        *,
        case_id: str,
        worker_id: str,
        service_code: str,
        started_at: datetime,
        ended_at: datetime,
        location: str | None = None,
        notes: str | None = None,
        evidence_hash: str | None = None,
        request: Request | None = None,
    ) -> CommandResult:
        """A contractor posts a visit by its own enrolled worker on an accepted case."""
        by.require(C)

        def work() -> _Work:
            # Read only, never changed here: the cached objects themselves, uncopied.
            visit = deliver_visit(
                self._load_readonly,
                by,
                case_id=case_id,
                worker_id=worker_id,
                service_code=service_code,
                started_at=started_at,
                ended_at=ended_at,
                location=location,
                notes=notes,
                evidence_hash=evidence_hash,
            )
            return _Work([visit], {"visit_id": visit.id})

        return self._execute(by, request, work)

    def _change_visit(self, by: Actor, visit_id: str, request: Request | None, change: Callable[[Visit], None]) -> CommandResult:
        def work() -> _Work:
            visit = self._load(Visit, visit_id, VisitNotFound, by)
            change(visit)
            return _Work([visit], {"visit_id": visit.id})

        return self._execute(by, request, work)

    def confirm_visit(self, by: Actor, visit_id: str, channel: str, proof: str | None = None, request: Request | None = None) -> CommandResult:
        """By the purchaser's follow-up (回访), or by the contractor with the beneficiary's own proof."""
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.confirm(channel, by, proof))

    def dispute_visit(self, by: Actor, visit_id: str, reason: str, channel: str, proof: str | None = None, request: Request | None = None) -> CommandResult:
        """By the purchaser; a contractor reaches the visit only to be told to void it instead."""
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.dispute(reason, channel, by, proof))

    def void_visit(self, by: Actor, visit_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.void(reason, by))

    def spot_check_visit(self, by: Actor, visit_id: str, result: str, note: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_visit(by, visit_id, request, lambda v: v.record_spot_check(result, note, by))

    def get_visit(self, by: Actor, visit_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Visit, visit_id, VisitNotFound, by).as_dict()

    # --- evaluations ---------------------------------------------------------------------------
    def open_evaluation(
        self,
        by: Actor,
        *,
        contract_id: str,
        stage: str,
        panel: list[dict[str, Any]],
        third_party: str | None = None,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> _Work:
            contract = self._load(Contract, contract_id, ContractNotFound)
            evaluation = Evaluation.open(
                contract_id=str(contract.id),
                contractor_id=contract.contractor_id,
                stage=stage,
                panel=panel,
                third_party=third_party,
                policy=self.policy,
                by=by,
            )
            contract.evaluation_opened(str(evaluation.id), evaluation.stage, by)
            return _Work([evaluation, contract], {"evaluation_id": evaluation.id})

        return self._execute(by, request, work)

    def _change_evaluation(self, by: Actor, evaluation_id: str, request: Request | None, change: Callable[[Evaluation], list[Aggregate] | None]) -> CommandResult:
        def work() -> _Work:
            evaluation = self._load(Evaluation, evaluation_id, EvaluationNotFound, by)
            others = change(evaluation) or []
            return _Work([evaluation, *others], {"evaluation_id": evaluation.id})

        return self._execute(by, request, work)

    def score_evaluation(self, by: Actor, evaluation_id: str, scores: dict[str, Any], request: Request | None = None) -> CommandResult:
        """Only the panel or third party scores: the purchaser, who buys the service, does not."""
        by.require(E)
        return self._change_evaluation(by, evaluation_id, request, lambda ev: ev.score(scores, by))

    def conclude_evaluation(self, by: Actor, evaluation_id: str, report: str, request: Request | None = None) -> CommandResult:
        """The result lands on the contract in the same transaction, fulfilling its milestones."""
        by.require(E)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            total, grade = evaluation.conclude(report, self.policy, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.evaluation_concluded(str(evaluation.id), total, grade, self.policy, by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def appeal_evaluation(self, by: Actor, evaluation_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(C)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            evaluation.lodge_appeal(reason, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.evaluation_appealed(str(evaluation.id), by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def resolve_appeal(self, by: Actor, evaluation_id: str, upheld: bool, revised_scores: dict[str, Any] | None, note: str, request: Request | None = None) -> CommandResult:
        """The civil-affairs department's review is final."""
        by.require(P)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            total, grade = evaluation.resolve_appeal(upheld, revised_scores, note, self.policy, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.appeal_resolved(str(evaluation.id), total, grade, self.policy, by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def get_evaluation(self, by: Actor, evaluation_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Evaluation, evaluation_id, EvaluationNotFound, by).as_dict()

    # --- history -------------------------------------------------------------------------------
    def history(self, by: Actor, kind: str, aggregate_id: str) -> list[dict[str, Any]]:
        """An aggregate's own events, read straight from the event store; a contractor is not
        shown an event about another contractor (a beneficiary's referral elsewhere)."""
        getters: dict[str, Callable[[Actor, str], dict[str, Any]]] = {
            "fund": self.get_fund,
            "contractor": self.get_contractor,
            "beneficiary": self.get_beneficiary,
            "contract": self.get_contract,
            "case": self.get_case,
            "visit": self.get_visit,
            "evaluation": self.get_evaluation,
        }
        getters[kind](by, aggregate_id)  # checks existence and visibility
        events = self.events.get(uuid.UUID(str(aggregate_id)))
        return [describe_event(e) for e in events if by.can_see(getattr(e, "contractor_id", by.organisation_id))]


def describe_event(e: Any) -> dict[str, Any]:
    payload = {k: v for k, v in e.__dict__.items() if k not in ("originator_id", "originator_version", "timestamp", "by", "originator_topic")}
    payload.pop("national_id_hash", None)
    by: Actor | None = getattr(e, "by", None)
    return {
        "version": e.originator_version,
        "type": type(e).__name__,
        "timestamp": e.timestamp,
        "actor": by.as_dict() if by else None,
        "data": payload,
    }


def _uuid(value: Any, missing: type[NotFound]) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        # Not echoed: a national ID number typed where an id belongs must not reach a log or a body.
        raise missing("the value given is not an id") from None


def _scope(by: Actor) -> str:
    return f"{by.role}:{by.organisation_id or ''}:{by.actor_id}"


def to_plain(value: Any) -> Any:
    """Ids and amounts as JSON-friendly simple types."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
