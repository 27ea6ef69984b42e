"""Builds the demo city in an empty store through the ledger's own commands, as its people would:
finance declares last year's subsidies and appropriates the fund, the purchaser registers
contractors and beneficiaries, signs contracts and refers cases, contractors accept or decline
and post a few months of visits (the bulk path), the milestone process fulfils what they
delivered, an evaluator panel concludes a mid-term evaluation, finance releases a tranche.

Deterministic for a seed: names, ID numbers, who is referred where and every visit's time follow
from it and from the day it runs (visits lie in the months before `today`, as visits cannot be
posted for the future). Ids of aggregates are the ledger's own and differ between runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from ledger.bulk_visits import REFUSED, VisitDraft
from ledger.demo import city
from ledger.demo.check_digits import credit_code, national_id
from ledger.domain.actors import Actor
from ledger.domain.catalogue import EvaluationIndicator, NeedIndicator
from ledger.domain.contractors import REQUIRED_ATTESTATIONS
from ledger.domain.contracts import FULFILLED, PENDING
from ledger.domain.errors import ConcurrentModification, LedgerError
from ledger.processes import MilestoneProcess

if TYPE_CHECKING:
    from ledger.application import Ledger

Progress = Callable[[str], None]

PURCHASER = Actor("officer-zhang", "purchaser", "civil-affairs-bureau", "demo-city")
FINANCE = Actor("cashier-li", "finance", "finance-bureau", "demo-city")
AUDITOR = Actor("auditor-zhao", "auditor", "audit-bureau", "demo-city")
EVALUATOR = Actor("panel-sun", "evaluator", "evaluation-panel", "demo-city")

MONTHS_OF_VISITS = 4
VISITS_PER_BATCH = 1000
SLOTS_PER_WORKER_DAY = 8  # well under the red-flag limit of 12
FIRST_SLOT = time(0, 30, tzinfo=timezone.utc)  # 08:30 in China
SLOT = timedelta(minutes=70)


class StoreNotEmpty(LedgerError):
    """The demo city is built only in an empty store."""


class DemoRefused(LedgerError):
    """The ledger refused one of the demo's own commands (a rule changed under the demo)."""


@dataclass(frozen=True)
class DemoContractor:
    key: str
    name: str
    contractor_id: str
    credit_code: str
    token: str
    subject: str
    worker_ids: list[str]
    contract_id: str


@dataclass(frozen=True)
class DemoTranche:
    contract_id: str
    tranche_id: str
    amount: str


@dataclass(frozen=True)
class DemoBeneficiary:
    beneficiary_id: str
    name: str
    category: str
    township: str
    village: str
    self_care_level: str


@dataclass
class DemoCity:
    """What the demo recorded: tokens by role, and the ids a test or a newcomer starts from."""

    city: str
    tokens: dict[str, str]  # purchaser, finance, auditor, evaluator, and contractor (the first)
    fund_id: str
    contractors: list[DemoContractor]
    contract_ids: list[str]
    beneficiaries: list[DemoBeneficiary]
    cases: dict[str, list[str]]  # accepted, declined, referred (awaiting the contractor)
    visits: int
    evaluation_id: str
    released_tranche: DemoTranche
    payable_tranches: list[DemoTranche]
    position: int  # the log's head when the demo was done: a `min_position` for reads
    subjects: dict[str, str] = field(default_factory=dict)  # who holds each role's token

    @property
    def beneficiary_ids(self) -> list[str]:
        return [b.beneficiary_id for b in self.beneficiaries]

    def contractor(self, key: str) -> DemoContractor:
        return next(c for c in self.contractors if c.key == key)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class _Person:
    beneficiary_id: str
    name: str
    category: str
    township: str
    village: str
    self_care_level: str


@dataclass
class _Case:
    case_id: str
    contract: city.ContractPlan
    person: _Person
    services: dict[str, int]  # service -> days between visits
    first_day: date


@dataclass
class _Referrals:
    accepted: list[_Case] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    referred: list[str] = field(default_factory=list)  # awaiting the contractor's answer


def build_demo_city(ledger: Ledger, progress: Progress | None = None, *, seed: int = 2026, today: date | None = None) -> DemoCity:
    """Fills an empty store with the demo city; raises StoreNotEmpty on any other."""
    if ledger.head():
        raise StoreNotEmpty(f"the store already holds {ledger.head()} events; the demo city fills an empty store only")
    return _Builder(ledger, progress or (lambda line: None), random.Random(seed), today or datetime.now(timezone.utc).date()).build()


class _Builder:
    def __init__(self, ledger: Ledger, progress: Progress, rng: random.Random, today: date) -> None:
        self.ledger = ledger
        self.say = progress
        self.rng = rng
        self.today = today
        month = (today.month - MONTHS_OF_VISITS - 1) % 12 + 1
        self.start = date(today.year if today.month > MONTHS_OF_VISITS else today.year - 1, month, 1)

    def build(self) -> DemoCity:
        fund_id = self._fund()
        orgs = self._contractors()
        people = self._beneficiaries()
        contracts = self._contracts(orgs, fund_id)
        cases = self._referrals(orgs, contracts, people)
        visits = self._visits(orgs, cases.accepted)
        self._follow_ups(orgs, visits)
        self._milestones()
        evaluation_id = self._evaluation(contracts["sunshine"])
        released = self._release(contracts["sunshine"], "t-volume")
        payable = self._payable(contracts)
        tokens, subjects, contractor_tokens = self._tokens(orgs)
        contractors = [
            DemoContractor(
                key=plan.key,
                name=plan.name,
                contractor_id=org["contractor_id"],
                credit_code=org["credit_code"],
                token=contractor_tokens[plan.key],
                subject=plan.coordinator,
                worker_ids=org["workers"],
                contract_id=contracts[plan.key],
            )
            for plan, org in ((p, orgs[p.key]) for p in city.CONTRACTORS)
        ]
        self.say(f"done: {self.ledger.head()} events in the log")
        return DemoCity(
            city=city.CITY,
            tokens=tokens,
            fund_id=fund_id,
            contractors=contractors,
            contract_ids=[contracts[p.key] for p in city.CONTRACTORS],
            beneficiaries=[DemoBeneficiary(p.beneficiary_id, p.name, p.category, p.township, p.village, p.self_care_level) for p in people],
            cases={"accepted": [c.case_id for c in cases.accepted], "declined": cases.declined, "referred": cases.referred},
            visits=sum(len(v) for v in visits.values()),
            evaluation_id=evaluation_id,
            released_tranche=released,
            payable_tranches=payable,
            position=self.ledger.head(),
            subjects=subjects,
        )

    # --- funds ---------------------------------------------------------------------------------
    def _fund(self) -> str:
        year = self.start.year
        ceiling = self.ledger.declare_purchase_ceiling(FINANCE, fiscal_year=year, prior_year_subsidy_total=city.PRIOR_YEAR_SUBSIDIES)
        fund_id = self.ledger.appropriate_fund(FINANCE, name=city.FUND_NAME.format(year=year), source="work_funds", fiscal_year=year, amount=city.FUND_AMOUNT).ids["fund_id"]
        self.say(f"fund: {city.FUND_AMOUNT} yuan for {year}, within the ceiling of {ceiling.ids['ceiling']} (3% of {city.PRIOR_YEAR_SUBSIDIES} subsidies last year)")
        return fund_id

    # --- contractors and workers ---------------------------------------------------------------
    def _contractors(self) -> dict[str, dict[str, Any]]:
        orgs: dict[str, dict[str, Any]] = {}
        for plan in city.CONTRACTORS:
            code = credit_code(plan.registrar, plan.kind, city.AREA_CODE, plan.org_code)
            contractor_id = self.ledger.register_contractor(PURCHASER, name=plan.name, contractor_type=plan.contractor_type, credit_code=code, attestations=list(REQUIRED_ATTESTATIONS)).ids[
                "contractor_id"
            ]
            actor = Actor(plan.coordinator, "contractor", contractor_id, "demo-city")
            workers = [self.ledger.enrol_worker(actor, contractor_id, name=name, qualification=qualification).ids["worker_id"] for name, qualification in plan.workers]
            orgs[plan.key] = {"contractor_id": contractor_id, "credit_code": code, "actor": actor, "workers": workers}
            self.say(f"contractor: {plan.name} ({code}), {len(workers)} workers")
        return orgs

    # --- beneficiaries -------------------------------------------------------------------------
    def _beneficiaries(self) -> list[_Person]:
        rng = self.rng
        categories = [c for c, n in city.CATEGORY_COUNTS.items() for _ in range(n)]
        rng.shuffle(categories)
        townships = list(city.TOWNSHIPS)
        names: set[str] = set()
        ids: set[str] = set()
        people = []
        for i, category in enumerate(categories):
            township = townships[i % len(townships)]
            village = city.TOWNSHIPS[township][(i // len(townships)) % 3]
            name = self._unique(names, lambda: rng.choice(city.SURNAMES) + "".join(rng.sample(city.GIVEN, rng.choice((1, 2)))))
            born = date(rng.randint(1934, 1972), rng.randint(1, 12), rng.randint(1, 28))
            number = self._unique(ids, partial(_id_number, rng, born))
            level = rng.choices(list(city.SELF_CARE_WEIGHTS), weights=list(city.SELF_CARE_WEIGHTS.values()))[0]
            beneficiary_id = self.ledger.register_beneficiary(
                PURCHASER,
                national_id=number,
                name=name,
                household_id=f"HH-{city.AREA_CODE}-{i + 1:04d}",
                category=category,
                township=township,
                village=village,
                self_care_level=level,
            ).ids["beneficiary_id"]
            scores = {indicator.value: rng.randint(0, 8) for indicator in NeedIndicator}
            self.ledger.assess_needs(PURCHASER, beneficiary_id, scores)
            people.append(_Person(beneficiary_id, name, category, township, village, level))
        counts = {c: categories.count(c) for c in city.CATEGORY_COUNTS}
        self.say(f"beneficiaries: {len(people)} in {len(townships)} townships, needs assessed ({', '.join(f'{c} {n}' for c, n in counts.items())})")
        return people

    @staticmethod
    def _unique(seen: set[str], make: Callable[[], str]) -> str:
        while (value := make()) in seen:
            pass
        seen.add(value)
        return value

    # --- contracts -----------------------------------------------------------------------------
    def _contracts(self, orgs: dict[str, dict[str, Any]], fund_id: str) -> dict[str, str]:
        contracts = {}
        for plan in city.CONTRACTS:
            end = date(self.start.year + 1, self.start.month, 1) - timedelta(days=1)
            result = self.ledger.sign_contract(
                PURCHASER,
                contract_no=plan.contract_no,
                title=plan.title,
                contractor_id=orgs[plan.contractor]["contractor_id"],
                fund_id=fund_id,
                procurement_method=plan.procurement_method,
                start_date=self.start,
                end_date=end,
                lines=[dict(line) for line in plan.lines],
                milestones=[
                    {
                        "milestone_id": "m-volume",
                        "kind": "service_volume",
                        "service_code": plan.volume_service,
                        "quantity": plan.volume_quantity,
                        "title": f"服务量达标: {plan.volume_quantity} × {plan.volume_service}",
                    },
                    {"milestone_id": "m-mid-term", "kind": "evaluation_passed", "stage": "mid_term", "title": "中期评估合格 Mid-term evaluation passed"},
                    {"milestone_id": "m-final", "kind": "evaluation_passed", "stage": "final", "title": "期末评估合格 Final evaluation passed"},
                    {"milestone_id": "m-acceptance", "kind": "acceptance", "title": "项目验收 Acceptance"},
                ],
                tranches=[{"tranche_id": "t" + m[1:], "milestone_id": m, "amount": amount} for m, amount in plan.tranches.items()],
            )
            contracts[plan.contractor] = result.ids["contract_id"]
            budget = sum(Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"])) for line in plan.lines)
            self.say(f"contract: {plan.contract_no} {plan.title}, {self.start} to {end}, budget {budget:.2f}")
        return contracts

    # --- referrals -----------------------------------------------------------------------------
    def _referrals(self, orgs: dict[str, dict[str, Any]], contracts: dict[str, str], people: list[_Person]) -> _Referrals:
        """Everyone is referred once: to the visiting service (one in three) or to the daily-living
        contractor of their township. Of each contractor's referrals the last two are left for it
        to answer and two are declined; the rest are accepted."""
        plans = {p.contractor: p for p in city.CONTRACTS}
        by_contractor: dict[str, list[_Person]] = {p.key: [] for p in city.CONTRACTORS}
        for i, person in enumerate(people):
            if i % 3 == 0:
                by_contractor["sunshine"].append(person)
            else:
                key = next(p.key for p in city.CONTRACTORS[1:] if person.township in p.townships)
                by_contractor[key].append(person)
        out = _Referrals()
        days = (self.today - self.start).days
        channels = ["one_door_window", "village_coordinator", "active_discovery", "hotline_12349", "other_department"]
        for key, persons in by_contractor.items():
            plan = plans[key]
            actor = orgs[key]["actor"]
            for j, person in enumerate(persons):
                services = dict(plan.services)
                if person.self_care_level != "self_reliant":
                    services.update(plan.extra_services)
                case_id = self.ledger.refer_case(
                    PURCHASER,
                    beneficiary_id=person.beneficiary_id,
                    contract_id=contracts[key],
                    services=list(services),
                    channel=channels[j % len(channels)],
                    visit_interval_days=min(services.values()) * 2,
                    note=f"{person.township}: {', '.join(services)}",
                ).ids["case_id"]
                if j >= len(persons) - 2:
                    out.referred.append(case_id)
                elif j in (3, 9):
                    self.ledger.decline_case(actor, case_id, city.DECLINE_REASONS[j % 2])
                    out.declined.append(case_id)
                else:
                    self.ledger.accept_case(actor, case_id)
                    first = self.start + timedelta(days=self.rng.randint(0, min(20, days // 4)))
                    out.accepted.append(_Case(case_id, plan, person, services, first))
        self.say(f"referrals: {len(out.accepted)} accepted, {len(out.declined)} declined, {len(out.referred)} awaiting an answer")
        return out

    # --- visits --------------------------------------------------------------------------------
    def _visits(self, orgs: dict[str, dict[str, Any]], cases: list[_Case]) -> dict[str, list[str]]:
        """Each case's services at their intervals from its first day to yesterday, each by the
        case's own worker, at most SLOTS_PER_WORKER_DAY a worker a day, posted in batches."""
        drafts: dict[str, list[VisitDraft]] = {key: [] for key in orgs}
        slots: dict[tuple[str, date], int] = {}
        turn: dict[str, int] = {}
        for case in cases:
            key = case.contract.contractor
            workers = orgs[key]["workers"]
            worker = workers[turn.setdefault(key, 0) % len(workers)]
            turn[key] += 1
            for service, every in case.services.items():
                day = case.first_day + timedelta(days=self.rng.randint(0, every - 1))
                while day < self.today:
                    slot = slots.get((worker, day), 0)
                    if slot >= SLOTS_PER_WORKER_DAY:
                        day += timedelta(days=1)
                        continue
                    slots[(worker, day)] = slot + 1
                    started = datetime.combine(day, FIRST_SLOT) + slot * SLOT
                    ended = started + timedelta(minutes=self.rng.choice((30, 40, 45, 50, 60)))
                    n = len(drafts[key]) + 1
                    drafts[key].append(
                        VisitDraft(
                            client_id=f"demo/{key}/{n:05d}",
                            case_id=case.case_id,
                            worker_id=worker,
                            service_code=service,
                            started_at=started,
                            ended_at=ended,
                            location=f"{case.person.township} {case.person.name}家",
                            notes=None,
                        )
                    )
                    day += timedelta(days=every)
        posted: dict[str, list[str]] = {}
        for key, items in drafts.items():
            actor = orgs[key]["actor"]
            posted[key] = []
            for start in range(0, len(items), VISITS_PER_BATCH):
                results = self.ledger.record_visits(actor, items[start : start + VISITS_PER_BATCH])
                refused = [r for r in results if r.status == REFUSED]
                if refused:
                    raise DemoRefused(f"the demo's own visit was refused: {refused[0].error}: {refused[0].detail}")
                posted[key] += [str(r.visit_id) for r in results]
            self.say(f"visits: {len(items)} posted by {key} from {self.start} to {self.today - timedelta(days=1)}, in batches of up to {VISITS_PER_BATCH}")
        return posted

    def _follow_ups(self, orgs: dict[str, dict[str, Any]], visits: dict[str, list[str]]) -> None:
        """Most visits confirmed by the beneficiary's signature, some of the rest by the
        purchaser's follow-up call; one visit voided by its contractor, one disputed through the
        hotline (a finding for the auditor), one spot-checked and verified."""
        signed = called = 0
        unconfirmed: dict[str, list[str]] = {}
        for key, visit_ids in visits.items():
            actor = orgs[key]["actor"]
            for n, visit_id in enumerate(visit_ids):
                draw = self.rng.random()
                if draw < city.SIGNED_SHARE:
                    self.ledger.confirm_visit(actor, visit_id, "beneficiary_signature", proof=f"服务签字单 signed slip {key}/{n + 1:05d}")
                    signed += 1
                elif draw < city.SIGNED_SHARE + (1 - city.SIGNED_SHARE) * city.FOLLOW_UP_SHARE:
                    self.ledger.confirm_visit(PURCHASER, visit_id, "follow_up_call")
                    called += 1
                else:
                    unconfirmed.setdefault(key, []).append(visit_id)
        self.ledger.void_visit(orgs["ankang"]["actor"], unconfirmed["ankang"][0], city.VOID)
        self.ledger.dispute_visit(PURCHASER, unconfirmed["linli"][0], city.DISPUTE, "hotline_12349")
        self.ledger.spot_check_visit(PURCHASER, visits["sunshine"][0], "verified", "入户抽查: 服务对象确认 Home spot check: the beneficiary confirmed it")
        self.say(f"follow-ups: {signed} visits signed for, {called} confirmed by follow-up call, 1 voided, 1 disputed, 1 spot-checked")

    def _milestones(self) -> None:
        """Here rather than left to a follower, so the tranche can be released next. A service's
        own follower may run beside it (a test building the city in a running app): a round
        that kept meeting its writes is tried again."""
        process = MilestoneProcess(self.ledger)
        for attempt in range(5):
            try:
                process.run_until_idle()
                break
            except ConcurrentModification:
                if attempt == 4:
                    raise
        self.say("milestones: the milestone process has counted the delivered visits")

    # --- evaluation and payment ----------------------------------------------------------------
    def _evaluation(self, contract_id: str) -> str:
        evaluation_id = self.ledger.open_evaluation(PURCHASER, contract_id=contract_id, stage="mid_term", panel=city.PANEL).ids["evaluation_id"]
        scores = {indicator.value: str(self.rng.randint(82, 93)) for indicator in EvaluationIndicator}
        self.ledger.score_evaluation(EVALUATOR, evaluation_id, scores)
        self.ledger.conclude_evaluation(EVALUATOR, evaluation_id, report="中期评估报告: 服务记录完整, 回访满意度较高。 Mid-term report: records complete, follow-up satisfaction high.")
        result = self.ledger.get_evaluation(PURCHASER, evaluation_id)
        self.say(f"evaluation: mid-term of QX-MZ-2026-001 concluded, {result['total']} ({result['grade']})")
        return evaluation_id

    def _release(self, contract_id: str, tranche_id: str) -> DemoTranche:
        self.ledger.release_tranche(FINANCE, contract_id, tranche_id)
        tranche = next(t for t in self.ledger.get_contract(FINANCE, contract_id)["tranches"] if t["tranche_id"] == tranche_id)
        self.say(f"payment: finance released {tranche_id} of QX-MZ-2026-001 ({tranche['amount']} yuan)")
        return DemoTranche(contract_id, tranche_id, str(tranche["amount"]))

    def _payable(self, contracts: dict[str, str]) -> list[DemoTranche]:
        payable = []
        for contract_id in contracts.values():
            contract = self.ledger.get_contract(FINANCE, contract_id)
            fulfilled = {m["milestone_id"] for m in contract["milestones"] if m["status"] == FULFILLED}
            for t in contract["tranches"]:
                if t["milestone_id"] in fulfilled and t["status"] == PENDING:
                    payable.append(DemoTranche(contract_id, t["tranche_id"], str(t["amount"])))
        return payable

    # --- tokens --------------------------------------------------------------------------------
    def _tokens(self, orgs: dict[str, dict[str, Any]]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        tokens, subjects = {}, {}
        for actor in (PURCHASER, FINANCE, AUDITOR, EVALUATOR):
            tokens[actor.role] = self.ledger.issue_token(actor.role, actor.organisation_id, actor.actor_id).token
            subjects[actor.role] = actor.actor_id
        contractor_tokens = {}
        for plan in city.CONTRACTORS:
            contractor_tokens[plan.key] = self.ledger.issue_token("contractor", orgs[plan.key]["contractor_id"], plan.coordinator).token
        tokens["contractor"] = contractor_tokens[city.CONTRACTORS[0].key]
        subjects["contractor"] = city.CONTRACTORS[0].coordinator
        self.say(f"tokens: {len(tokens) - 1 + len(contractor_tokens)} issued (purchaser, finance, auditor, evaluator, one per contractor)")
        return tokens, subjects, contractor_tokens


def _id_number(rng: random.Random, born: date) -> str:
    """An ID number of the demo county for someone born that day, any sequence."""
    return national_id(city.AREA_CODE, born.strftime("%Y%m%d"), rng.randint(1, 999))
