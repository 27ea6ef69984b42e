"""The history generator: a realistic small province written fast through the application,
in-process. A few funds; ~30 contractors of skewed sizes, each serving a few townships with its
enrolled workers; thousands of beneficiaries across the domain's categories, self-care levels
and townships; contracts with service lines, a volume milestone, evaluation and acceptance
milestones and tranches; referrals, mostly accepted; and visits, most of the events, with some
confirmations, voids and disputes.

The setup goes through the Ledger's commands one by one. Visits are built as the command builds
them (Visit.deliver, with the case's contract, contractor, beneficiary, township and village)
and saved many per Application.save: the same events the API records for a visit posted without
an Idempotency-Key, so the projections and the milestone follower take them as they are.

    .venv/bin/python -m bench history --events 1000000 --store postgres [--url postgresql://...]
"""

from __future__ import annotations

import random
import time
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from decimal import Decimal
from itertools import accumulate
from typing import Any

from ledger.application import Ledger
from ledger.domain.actors import Actor
from ledger.domain.check_digits import with_credit_code_check, with_national_id_check
from ledger.domain.contractors import REQUIRED_ATTESTATIONS
from ledger.domain.errors import InvalidInput
from ledger.domain.visits import Visit

SEED = 20261123
CONTRACTORS = 30
# Townships of a small county and some of their villages; the first ones are the larger towns.
TOWNSHIPS = {
    "城关镇": ["东风村", "红旗村", "新华村", "南街社区", "北街社区"],
    "河口乡": ["河口村", "柳树村", "渡口村"],
    "山前镇": ["山前村", "石桥村", "青山村", "岭下村"],
    "白沙镇": ["白沙村", "沙湾村", "新村"],
    "龙泉乡": ["龙泉村", "泉水村"],
    "梅岭镇": ["梅岭村", "坪上村", "竹园村"],
    "双溪乡": ["双溪村", "溪口村"],
    "高桥镇": ["高桥村", "田心村", "长岭村"],
    "云峰乡": ["云峰村", "峰下村"],
    "清水镇": ["清水村", "塘边村", "下洋村"],
    "石门乡": ["石门村", "门前村"],
    "大坪乡": ["大坪村", "小坪村"],
}
TOWNSHIP_WEIGHTS = [30, 9, 12, 8, 5, 7, 4, 8, 3, 6, 4, 4]
# Shares of the roster by category (dibao the largest) and by self-care level.
CATEGORY_WEIGHTS = {"dibao": 46, "extreme_poverty": 14, "marginal": 20, "rigid_expense": 9, "relapse_monitored": 11}
LEVEL_WEIGHTS = {"self_reliant": 52, "partly_lost": 33, "fully_lost": 15}
VISITS_BY_LEVEL = {"self_reliant": 1, "partly_lost": 2, "fully_lost": 4}  # who gets visited how often
# Services a county buys, how popular each is, and a unit price in yuan.
SERVICES = {
    "meals": (30, "15.00"),
    "cleaning": (14, "45.00"),
    "visiting": (14, "30.00"),
    "bathing": (9, "60.00"),
    "companionship": (8, "40.00"),
    "health_services": (6, "35.00"),
    "rehab_training": (4, "80.00"),
    "haircut": (4, "20.00"),
    "errands": (4, "25.00"),
    "hospital_escort": (2, "120.00"),
    "counselling": (2, "100.00"),
    "home_verification": (3, "50.00"),
}
CHANNELS = ["village_coordinator", "one_door_window", "hotline_12349", "active_discovery", "other_department"]
CHANNEL_WEIGHTS = [40, 25, 10, 20, 5]
CONFIRMED, VOIDED, DISPUTED = 0.08, 0.01, 0.004  # shares of visits that get a second event


@dataclass
class CaseRef:
    case_id: str
    contract_id: str
    contractor_id: str
    beneficiary_id: str
    services: list[str]
    township: str
    village: str
    level: str


@dataclass
class ContractorRef:
    contractor_id: str
    name: str
    weight: float
    townships: list[str]
    workers: list[str] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)  # contract_id, services
    cases: list[CaseRef] = field(default_factory=list)


@dataclass
class World:
    purchaser: Actor
    finance: Actor
    fund_ids: list[str]
    contractors: list[ContractorRef]
    cases: list[CaseRef]
    term_start: date
    beneficiaries: int

    def busiest(self) -> ContractorRef:
        return max(self.contractors, key=lambda c: len(c.cases))


def _actor(role: str, org: str | None, who: str) -> Actor:
    return Actor(actor_id=who, role=role, organisation_id=org, correlation_id=str(uuid.uuid4()))


def _fresh(actor: Actor) -> Actor:
    """The same person, a new correlation id: one per command, as over HTTP."""
    return Actor(actor.actor_id, actor.role, actor.organisation_id, str(uuid.uuid4()))


def national_id(n: int) -> str:
    return with_national_id_check(f"5224{n:010d}195")


def build_world(ledger: Ledger, *, beneficiaries: int, contractors: int = CONTRACTORS, expected_visits: int = 100_000, seed: int = SEED, namespace: int = 0) -> World:
    """Funds, contractors with workers and contracts, beneficiaries and their accepted cases.
    `namespace` (0-9,999) shifts credit codes and ID numbers, so a second world fits in a store
    that holds one already (the registrations would be refused as duplicates)."""
    rng = random.Random(seed)
    today = datetime.now(timezone.utc).date()
    term_start, term_end = today - timedelta(days=300), today + timedelta(days=60)
    purchaser = _actor("purchaser", "civil-affairs-bureau", "officer-zhang")
    finance = _actor("finance", "finance-bureau", "cashier-li")

    # Contractor sizes follow a long tail: a few large providers, many small ones.
    weights = [1 / (i + 1) ** 0.9 for i in range(contractors)]
    total_weight = sum(weights)
    township_names = list(TOWNSHIPS)
    refs: list[ContractorRef] = []
    for i, w in enumerate(weights):
        share = w / total_weight
        served = 1 + min(len(township_names) - 1, int(share * 40))
        towns = rng.sample(township_names, k=served) if i else township_names[:served]
        refs.append(ContractorRef("", f"社会服务中心{i + 1:02d}", share, towns))

    # Contracts: service lines sized to the visits each contractor is expected to deliver.
    plans: list[tuple[ContractorRef, dict[str, Any]]] = []
    codes, popularity = list(SERVICES), [SERVICES[c][0] for c in SERVICES]
    for i, ref in enumerate(refs):
        n_contracts = 3 if ref.weight > 0.08 else 2 if ref.weight > 0.03 else 1
        for k in range(n_contracts):
            chosen: list[str] = []
            while len(chosen) < rng.randint(3, 5):
                code = rng.choices(codes, popularity)[0]
                if code not in chosen:
                    chosen.append(code)
            expected = max(50, int(expected_visits * ref.weight / n_contracts))
            lines = [{"service_code": c, "quantity": max(10, expected), "unit_price": Decimal(SERVICES[c][1])} for c in chosen]
            volume = min(100_000, max(10, int(expected * 0.4)))
            budget = sum((line["quantity"] * line["unit_price"] for line in lines), Decimal("0"))
            tranche = (budget / 10).quantize(Decimal("0.01"))
            plans.append(
                (
                    ref,
                    {
                        "contract_no": f"MZ-{today.year}-{i + 1:02d}{k + 1}",
                        "title": "居家社会救助服务",
                        "procurement_method": rng.choice(["open_tender", "competitive_consultation", "competitive_negotiation"]),
                        "start_date": term_start,
                        "end_date": term_end,
                        "lines": lines,
                        "milestones": [
                            {"milestone_id": "volume", "kind": "service_volume", "service_code": chosen[0], "quantity": volume},
                            {"milestone_id": "mid", "kind": "evaluation_passed", "stage": "mid_term"},
                            {"milestone_id": "final", "kind": "evaluation_passed", "stage": "final"},
                            {"milestone_id": "acceptance", "kind": "acceptance"},
                        ],
                        "tranches": [
                            {"tranche_id": "t-volume", "milestone_id": "volume", "amount": tranche * 3},
                            {"tranche_id": "t-mid", "milestone_id": "mid", "amount": tranche * 3},
                            {"tranche_id": "t-final", "milestone_id": "final", "amount": tranche * 2},
                            {"tranche_id": "t-acceptance", "milestone_id": "acceptance", "amount": tranche * 2},
                        ],
                        "budget": budget,
                    },
                )
            )

    # Money: three funds, each large enough for the contracts it pays, under the year's ceiling.
    sources = [("社会救助工作经费", "work_funds"), ("福利彩票公益金", "welfare_lottery"), ("专项资金", "special_funds")]
    fund_budget = [Decimal("0")] * len(sources)
    fund_of_plan = [rng.choices(range(len(sources)), [60, 25, 15])[0] for _ in plans]
    for (_, plan), f in zip(plans, fund_of_plan):
        fund_budget[f] += plan["budget"]
    amounts = [(b * Decimal("1.2") + 100_000).quantize(Decimal("1.00")) for b in fund_budget]
    try:
        ledger.declare_purchase_ceiling(_fresh(finance), today.year, (sum(amounts) * 40).quantize(Decimal("1.00")))
    except InvalidInput as error:  # a stored history's ceiling (`bench all --url`): the small world's funds fit its headroom
        if "already declared" not in str(error):
            raise
    fund_ids = [str(ledger.appropriate_fund(_fresh(finance), name, source, today.year, amount).ids["fund_id"]) for (name, source), amount in zip(sources, amounts)]

    # Contractors and their workers: enough carers for the caseload each is expected to take.
    for i, ref in enumerate(refs):
        ref.contractor_id = str(
            ledger.register_contractor(_fresh(purchaser), ref.name, "social_organisation", with_credit_code_check(f"52522300MJ{namespace * 100 + i:07d}"), list(REQUIRED_ATTESTATIONS)).ids[
                "contractor_id"
            ]
        )
        coordinator = _actor("contractor", ref.contractor_id, f"coordinator-{i + 1}")
        for w in range(int(beneficiaries * ref.weight / 4) + 3):
            ref.workers.append(str(ledger.enrol_worker(_fresh(coordinator), ref.contractor_id, f"护理员{i + 1}-{w + 1}", rng.choice(["carer", "social_worker", "nurse"])).ids["worker_id"]))
    for (ref, plan), f in zip(plans, fund_of_plan):
        body = {k: v for k, v in plan.items() if k != "budget"}
        contract_id = str(ledger.sign_contract(_fresh(purchaser), contractor_id=ref.contractor_id, fund_id=fund_ids[f], **body).ids["contract_id"])
        ref.contracts.append({"contract_id": contract_id, "services": [line["service_code"] for line in plan["lines"]]})

    # Beneficiaries: referred to a contractor serving their township; most cases are accepted.
    cases: list[CaseRef] = []
    contractor_weights = [r.weight for r in refs]
    categories, levels = list(CATEGORY_WEIGHTS), list(LEVEL_WEIGHTS)
    for n in range(beneficiaries):
        ref = rng.choices(refs, contractor_weights)[0]
        township = rng.choices(ref.townships, [TOWNSHIP_WEIGHTS[township_names.index(t)] for t in ref.townships])[0]
        village = rng.choice(TOWNSHIPS[township])
        level = rng.choices(levels, list(LEVEL_WEIGHTS.values()))[0]
        person = str(
            ledger.register_beneficiary(
                _fresh(purchaser),
                national_id=national_id(namespace * 100_000 + n),
                name=f"居民{n}",
                household_id=f"HH-{n // 2}",  # two people to a household
                category=rng.choices(categories, list(CATEGORY_WEIGHTS.values()))[0],
                township=township,
                village=village,
                self_care_level=level,
            ).ids["beneficiary_id"]
        )
        contract = rng.choice(ref.contracts)
        services = rng.sample(contract["services"], k=min(len(contract["services"]), rng.randint(1, 3)))
        case_id = str(
            ledger.refer_case(_fresh(purchaser), beneficiary_id=person, contract_id=contract["contract_id"], services=services, channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]).ids["case_id"]
        )
        answer = rng.random()
        coordinator = _actor("contractor", ref.contractor_id, "coordinator")
        if answer < 0.03:
            ledger.decline_case(_fresh(coordinator), case_id, "超出服务能力")
            continue
        if answer < 0.08:
            continue  # still awaiting the contractor's answer
        ledger.accept_case(_fresh(coordinator), case_id)
        case = CaseRef(case_id, contract["contract_id"], ref.contractor_id, person, services, township, village, level)
        ref.cases.append(case)
        cases.append(case)
    return World(purchaser, finance, fund_ids, refs, cases, term_start, beneficiaries)


class VisitWriter:
    """Visits of accepted cases, saved `batch` aggregates per Application.save."""

    def __init__(self, ledger: Ledger, world: World, *, seed: int = SEED, batch: int = 500) -> None:
        self.ledger, self.world, self.batch = ledger, world, batch
        self.rng = random.Random(seed + 1)
        self.cases = [c for c in world.cases if c.services]
        by_contractor = {r.contractor_id: r for r in world.contractors}
        self.workers = {c.case_id: by_contractor[c.contractor_id].workers for c in self.cases}
        self.cum = list(accumulate(VISITS_BY_LEVEL[c.level] for c in self.cases))
        today = datetime.now(timezone.utc).date()
        self.days = max(1, (today - world.term_start).days)
        self.made = 0

    def _visit(self) -> tuple[Visit, int]:
        rng = self.rng
        case = self.cases[bisect(self.cum, rng.random() * self.cum[-1])]
        day = self.world.term_start + timedelta(days=rng.randrange(self.days))
        start = datetime.combine(day, dtime(rng.randint(0, 9), rng.choice((0, 15, 30, 45))), tzinfo=timezone.utc)  # 08:00-17:45 Beijing
        by = Actor(f"coordinator-{case.contractor_id[:8]}", "contractor", case.contractor_id, str(uuid.uuid4()))
        visit = Visit.deliver(
            case_id=case.case_id,
            contract_id=case.contract_id,
            contractor_id=case.contractor_id,
            beneficiary_id=case.beneficiary_id,
            worker_id=rng.choice(self.workers[case.case_id]),
            service_code=rng.choice(case.services),
            started_at=start,
            ended_at=start + timedelta(minutes=rng.choice((30, 45, 60, 90, 120))),
            location=f"{case.village}{rng.randint(1, 99)}号",
            notes="服务对象状态良好" if rng.random() < 0.1 else None,
            evidence_hash=f"sha256:{rng.getrandbits(256):064x}" if rng.random() < 0.7 else None,
            township=case.township,
            village=case.village,
            by=by,
        )
        # The first three visits are voided, disputed and confirmed, so even a tiny history holds
        # every kind of visit event; then the shares hold.
        roll = (0.0, VOIDED, VOIDED + DISPUTED)[self.made] if self.made < 3 else rng.random()
        self.made += 1
        if roll < VOIDED:
            visit.void("录入错误", _fresh(by))
        elif roll < VOIDED + DISPUTED:
            visit.dispute("服务对象反映未到", "follow_up_call", _fresh(self.world.purchaser))
        elif roll < VOIDED + DISPUTED + CONFIRMED:
            if rng.random() < 0.5:
                visit.confirm("follow_up_call", _fresh(self.world.purchaser))
            else:
                visit.confirm("beneficiary_signature", _fresh(by), f"sign:{rng.getrandbits(64):016x}")
        return visit, len(visit.pending_events)

    def write(self, events: int, progress: Any = None) -> int:
        """Writes visits until `events` more events are stored; returns how many were."""
        written = 0
        while written < events:
            batch, n = [], 0
            while n < min(self.batch, events - written):
                visit, k = self._visit()
                batch.append(visit)
                n += k
            self.ledger.save(*batch)
            written += n
            if progress:
                progress(written)
        return written


def generate(ledger: Ledger, events: int, *, progress: Any = None, seed: int = SEED, beneficiaries: int | None = None) -> dict[str, Any]:
    """A province of about `events` stored events; returns what was made and how fast."""
    beneficiaries = beneficiaries or max(60, min(5000, events // 250))
    t0 = time.perf_counter()
    world = build_world(ledger, beneficiaries=beneficiaries, expected_visits=events, seed=seed)
    setup_seconds = time.perf_counter() - t0
    setup_events = ledger.head()
    t1 = time.perf_counter()
    written = VisitWriter(ledger, world, seed=seed).write(max(0, events - setup_events), progress)
    visit_seconds = time.perf_counter() - t1
    return {
        "world": world,
        "events": ledger.head(),
        "setup_events": setup_events,
        "setup_seconds": setup_seconds,
        "visit_events": written,
        "visit_seconds": visit_seconds,
        "visit_events_per_second": written / visit_seconds if visit_seconds else float("nan"),
        "events_per_second": ledger.head() / (setup_seconds + visit_seconds),
        "contractors": len(world.contractors),
        "workers": sum(len(c.workers) for c in world.contractors),
        "beneficiaries": beneficiaries,
        "accepted_cases": len(world.cases),
    }
