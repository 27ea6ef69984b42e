"""A realistic history driven through the HTTP API with a fixed random seed, and an independent
tally, in plain Python, of everything that was posted. The expected read-model figures are
computed from this tally alone: never from the read models or the application's internals.

Money is kept in fen (int) and written as yuan strings with two places.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fastapi.testclient import TestClient

from ledger.domain.check_digits import with_national_id_check
from ledger.domain.contractors import REQUIRED_ATTESTATIONS
from tests.api.builders import SIGNED_BY_BENEFICIARY

Headers = dict[str, str]

SEED = 20260314
TOWNSHIPS = {
    "城关镇": ["东风村", "红旗村", "新华村"],
    "河口乡": ["河口村", "柳树村"],
    "山前镇": ["山前村", "石桥村", "青山村"],
}
CATEGORIES = ["extreme_poverty", "dibao", "marginal", "rigid_expense", "relapse_monitored"]  # deepest need first
LEVELS = ["self_reliant", "partly_lost", "fully_lost"]
CARER_RATIO = {"self_reliant": 10, "partly_lost": 6, "fully_lost": 3}  # people per carer (seed 002)
INTERVALS = [2, 7, 14, 30, 60]
# The service classes of the catalogue items used here (seed 001, annex 1).
SERVICE_CLASS = {
    "meals": "daily_living",
    "bathing": "daily_living",
    "cleaning": "daily_living",
    "companionship": "daily_living",
    "haircut": "daily_living",
    "visiting": "care",
    "rehab_training": "care",
    "counselling": "caring",
    "home_verification": "administrative",
}
WEIGHTS = {
    "administration": 10,
    "record_keeping": 10,
    "progress": 10,
    "quality_system": 10,
    "risk": 10,
    "implementation": 10,
    "effectiveness": 20,
    "satisfaction": 10,
    "social_benefit": 10,
}
PAYOUT = {"excellent": Decimal("1.00"), "good": Decimal("1.00"), "qualified": Decimal("0.80"), "unqualified": Decimal("0")}
PANEL = [{"name": "张会计", "accountant_title": "intermediate"}, {"name": "李科长"}, {"name": "王代表"}]


def fen(amount: str | Decimal) -> int:
    return int(Decimal(str(amount)) * 100)


def yuan(amount_fen: int) -> str:
    return str((Decimal(amount_fen) / 100).quantize(Decimal("0.01")))


def grade_of(total: Decimal) -> str:
    return "excellent" if total >= 90 else "good" if total >= 80 else "qualified" if total >= 60 else "unqualified"


def weighted(scores: dict[str, Decimal]) -> Decimal:
    return (sum(Decimal(str(scores[k])) * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())).quantize(Decimal("0.01"))


def iso(value: datetime) -> str:
    return value.isoformat()


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# --- the tally ------------------------------------------------------------------------------
@dataclass
class Worker:
    worker_id: str
    contractor_id: str
    name: str
    enrolled: bool = True


@dataclass
class Contractor:
    contractor_id: str
    name: str
    token: Headers
    subject: str
    workers: list[str] = field(default_factory=list)


@dataclass
class Person:
    beneficiary_id: str
    national_id: str
    name: str
    township: str
    village: str
    category: str
    level: str


@dataclass
class Case:
    case_id: str
    beneficiary_id: str
    contract_id: str
    contractor_id: str
    township: str
    village: str
    level: str
    services: list[str]
    interval: int
    status: str = "referred"


@dataclass
class Visit:
    visit_id: str
    case_id: str
    contract_id: str
    contractor_id: str
    fund_id: str
    worker_id: str
    beneficiary_id: str
    township: str
    village: str
    service: str
    started_at: datetime
    category: str  # the beneficiary's category when the visit was posted
    price_fen: int
    counts: bool = True
    confirmation: str | None = None
    voided: bool = False
    spot_check: str | None = None
    events: list[str] = field(default_factory=lambda: ["Visit.Delivered"])


@dataclass
class Line:
    quantity: int
    price_fen: int
    posted: int = 0
    delivered: int = 0
    confirmed: int = 0
    disputed: int = 0
    voided: int = 0
    failed: int = 0
    running_max: int = 0


@dataclass
class Tranche:
    milestone_id: str
    amount_fen: int
    reduced_fen: int = 0
    released_fen: int = 0
    withheld_fen: int = 0
    status: str = "pending"


@dataclass
class Evaluation:
    evaluation_id: str
    stage: str
    status: str = "open"
    total: str | None = None
    grade: str | None = None
    appeal: str | None = None
    scores: dict[str, str] = field(default_factory=dict)


@dataclass
class Contract:
    contract_id: str
    contract_no: str
    contractor_id: str
    fund_id: str
    start_date: date
    end_date: date
    lines: dict[str, Line]
    milestones: dict[str, dict[str, Any]]
    tranches: dict[str, Tranche]
    status: str = "active"
    decommitted_fen: int = 0
    evaluations: list[Evaluation] = field(default_factory=list)

    @property
    def budget_fen(self) -> int:
        return sum(line.quantity * line.price_fen for line in self.lines.values())

    @property
    def released_fen(self) -> int:
        return sum(t.released_fen for t in self.tranches.values())

    @property
    def withheld_fen(self) -> int:
        return sum(t.withheld_fen for t in self.tranches.values())


@dataclass
class Fund:
    fund_id: str
    name: str
    source: str
    fiscal_year: int
    appropriated_fen: int
    committed_fen: int = 0
    disbursed_fen: int = 0


@dataclass
class History:
    now: datetime
    purchaser: Headers
    finance: Headers
    auditor: Headers
    evaluator: Headers
    contractors: dict[str, Contractor] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    funds: dict[str, Fund] = field(default_factory=dict)
    last_position: int = 0
    removed_worker: str = ""
    settled: str = ""
    terminated: str = ""

    # --- expectations -----------------------------------------------------------------------
    def contract_by_no(self, no: str) -> Contract:
        return next(k for k in self.contracts.values() if k.contract_no == no)

    def open_demand(self, contractor_id: str) -> Fraction:
        return sum(
            (Fraction(1, CARER_RATIO[c.level]) for c in self.cases.values() if c.contractor_id == contractor_id and c.status == "accepted"),
            Fraction(0),
        )

    def enrolled(self, contractor_id: str) -> int:
        return sum(1 for w in self.workers.values() if w.contractor_id == contractor_id and w.enrolled)

    def caseload(self, by: str, *, period_start: datetime, period_end: datetime, as_of: datetime, org: str | None = None) -> dict[str, dict[str, Any]]:
        """The figures of /read/caseload, computed from what was posted."""

        def key(x: Case | Visit) -> str:
            if by == "contractor":
                return x.contractor_id
            if by == "worker":
                assert isinstance(x, Visit)
                return x.worker_id
            if by == "township":
                return x.township
            return f"{x.township}/{x.village}"

        rows: dict[str, dict[str, Any]] = {}

        def row(k: str) -> dict[str, Any]:
            return rows.setdefault(
                k,
                {"key": k, "open_cases": 0, "overdue_cases": 0, "beneficiaries_served": 0, "visits_in_period": 0, "cases_visited_in_period": 0, "last_visit_at": None},
            )

        served: dict[str, set[str]] = defaultdict(set)
        visited: dict[str, set[str]] = defaultdict(set)
        for v in self.visits.values():
            if org and v.contractor_id != org:
                continue
            r = row(key(v))
            if v.counts:
                if r["last_visit_at"] is None or v.started_at > r["last_visit_at"]:
                    r["last_visit_at"] = v.started_at
                if period_start <= v.started_at < period_end:
                    r["visits_in_period"] += 1
                    served[r["key"]].add(v.beneficiary_id)
                    visited[r["key"]].add(v.case_id)
        for k, r in rows.items():
            r["beneficiaries_served"] = len(served[k])
            r["cases_visited_in_period"] = len(visited[k])

        if by == "worker":
            for w in self.workers.values():
                if org and w.contractor_id != org:
                    continue
                if w.worker_id in rows or w.enrolled:
                    row(w.worker_id).update(contractor_id=w.contractor_id, name=w.name, enrolled=w.enrolled)
            return rows

        levels: dict[str, dict[str, int]] = defaultdict(dict)
        for c in self.cases.values():
            if org and c.contractor_id != org:
                continue
            r = row(key(c))
            levels[r["key"]].setdefault(c.level, 0)
            if c.status != "accepted":
                continue
            r["open_cases"] += 1
            levels[r["key"]][c.level] += 1
            if self.overdue(c, as_of):
                r["overdue_cases"] += 1
        if by == "contractor":
            for k, r in rows.items():
                demand = self.open_demand(k)
                r.update(
                    name=self.contractors[k].name,
                    enrolled_workers=self.enrolled(k),
                    open_cases_by_self_care=levels[k],
                    carers_needed=str((Decimal(demand.numerator) / Decimal(demand.denominator)).quantize(Decimal("0.01"))),
                    within_carer_ratio=True,
                )
        return rows

    def overdue(self, c: Case, as_of: datetime) -> bool:
        counting = [v.started_at for v in self.visits.values() if v.case_id == c.case_id and v.counts]
        if counting:
            return max(counting) + timedelta(days=c.interval) < as_of
        # Never visited: due `interval` days after acceptance, which happened after `now` and
        # well within a day of it; as_of is chosen so the answer does not depend on the moment.
        due_earliest = self.now + timedelta(days=c.interval)
        due_latest = due_earliest + timedelta(days=1)
        assert not due_earliest < as_of < due_latest, "as_of is too close to an unvisited case's due time"
        return due_latest <= as_of

    def fund_breakdown(self, fund_id: str) -> dict[str, list[dict[str, Any]]]:
        table: dict[tuple[str, str], dict[str, int]] = {}

        def cell(dim: str, k: str) -> dict[str, int]:
            return table.setdefault((dim, k), {"contracted": 0, "delivered": 0, "visits": 0})

        for k in self.contracts.values():
            if k.fund_id == fund_id:
                for code, line in k.lines.items():
                    cell("service_class", SERVICE_CLASS[code])["contracted"] += line.quantity * line.price_fen
        for v in self.visits.values():
            if v.fund_id != fund_id:
                continue
            for dim, k in (("township", v.township), ("service_class", SERVICE_CLASS[v.service]), ("category", v.category)):
                c = cell(dim, k)
                if v.counts:
                    c["delivered"] += v.price_fen
                    c["visits"] += 1
        out: dict[str, list[dict[str, Any]]] = {"township": [], "service_class": [], "category": []}
        for (dim, k), c in sorted(table.items()):
            out[dim].append({"key": k, "contracted": yuan(c["contracted"]), "delivered_value": yuan(c["delivered"]), "visits": c["visits"]})
        return out

    def payable(self, org: str | None = None) -> list[tuple[str, str]]:
        out = []
        for k in self.contracts.values():
            if k.status not in ("active", "accepted") or (org and k.contractor_id != org):
                continue
            for tid, t in k.tranches.items():
                if t.status == "pending" and k.milestones[t.milestone_id]["status"] == "fulfilled":
                    out.append((k.contract_id, tid))
        return sorted(out)


# --- driving the API --------------------------------------------------------------------------
class Driver:
    def __init__(self, client: TestClient, token_for: Callable[..., Headers], seed: int = SEED) -> None:
        self.client = client
        self.token_for = token_for
        self.rng = random.Random(seed)

    def post(self, h: History, path: str, headers: Headers, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.client.post(path, json=body if body is not None else {}, headers=headers)
        assert r.status_code == 201, (path, r.status_code, r.text)
        out = r.json()
        assert out["position"] > 0
        h.last_position = max(h.last_position, out["position"])
        return out

    def build(self) -> History:
        rng = self.rng
        now = datetime.now(timezone.utc).replace(microsecond=0)
        h = History(
            now=now,
            purchaser=self.token_for("purchaser", "civil-affairs-bureau", "officer-zhang"),
            finance=self.token_for("finance", "finance-bureau", "cashier-li"),
            auditor=self.token_for("auditor", "audit-bureau", "auditor-wu"),
            evaluator=self.token_for("evaluator", None, "panel-chair"),
        )
        self.money(h)
        self.parties(h)
        self.sign_contracts(h)
        self.referrals(h)
        self.deliver(h)
        self.corrections(h)
        self.endings(h)
        self.evaluations_and_payments(h)
        # The last command is not a visit command, so nothing the milestone process adds comes after it.
        self.post(h, f"/beneficiaries/{rng.choice(list(h.people))}/needs-assessments", h.purchaser, {"scores": _needs(rng)})
        return h

    # --- money and parties ----------------------------------------------------------------
    def money(self, h: History) -> None:
        for year, prior in ((2025, "2000000.00"), (2026, "30000000.00")):
            self.post(h, "/purchase-ceilings", h.finance, {"fiscal_year": year, "prior_year_subsidy_total": prior})
        for name, source, year, amount in (
            ("2026 社会救助工作经费", "work_funds", 2026, "500000.00"),
            ("2026 福彩公益金", "welfare_lottery", 2026, "300000.00"),
            ("2025 专项资金", "special_funds", 2025, "50000.00"),
        ):
            fund_id = self.post(h, "/funds", h.finance, {"name": name, "source": source, "fiscal_year": year, "amount": amount})["fund_id"]
            h.funds[fund_id] = Fund(fund_id, name, source, year, fen(amount))

    def parties(self, h: History) -> None:
        rng = self.rng
        for n, (name, code) in enumerate((("阳光社工", "52330100MJ10000017"), ("春晖养老", "52330100MJ1000002A"), ("乐龄家园", "52330100MJ1000003D")), start=1):
            body = {"name": name, "contractor_type": "social_organisation", "credit_code": code, "attestations": list(REQUIRED_ATTESTATIONS)}
            contractor_id = self.post(h, "/contractors", h.purchaser, body)["contractor_id"]
            subject = f"coordinator-{n}"
            h.contractors[contractor_id] = Contractor(contractor_id, name, self.token_for("contractor", contractor_id, subject), subject)
            for _ in range(3):
                self.enrol(h, contractor_id)
        for n in range(1, 201):
            township = rng.choice(sorted(TOWNSHIPS))
            village = rng.choice(TOWNSHIPS[township])
            category = rng.choice(CATEGORIES)
            level = rng.choices(LEVELS, weights=[5, 3, 2])[0]
            nid = with_national_id_check(f"3301{n:06d}19500101"[:17])
            body = {"national_id": nid, "name": f"居民{n}", "household_id": f"HH-{n:04d}", "category": category, "township": township, "village": village, "self_care_level": level}
            beneficiary_id = self.post(h, "/beneficiaries", h.purchaser, body)["beneficiary_id"]
            h.people[beneficiary_id] = Person(beneficiary_id, nid, f"居民{n}", township, village, category, level)

    def enrol(self, h: History, contractor_id: str) -> str:
        c = h.contractors[contractor_id]
        name = f"{c.name}护理员{len(c.workers) + 1}"
        worker_id = self.post(h, f"/contractors/{contractor_id}/workers", c.token, {"name": name, "qualification": "carer"})["worker_id"]
        c.workers.append(worker_id)
        h.workers[worker_id] = Worker(worker_id, contractor_id, name)
        return worker_id

    # --- contracts ------------------------------------------------------------------------
    def sign_contracts(self, h: History) -> None:
        c1, c2, c3 = list(h.contractors)
        f1, f2, _ = list(h.funds)
        today = h.now.date()
        specs = [
            (
                "MZ-2026-101",
                c1,
                f1,
                {"meals": (2000, "15.00"), "bathing": (400, "40.00"), "visiting": (600, "30.00")},
                [
                    ("volume", "service_volume", {"service_code": "meals", "quantity": 40}),
                    ("mid", "evaluation_passed", {"stage": "mid_term"}),
                    ("final", "evaluation_passed", {"stage": "final"}),
                    ("acceptance", "acceptance", {}),
                ],
                [("t-volume", "volume", "5000.00"), ("t-mid", "mid", "5000.00"), ("t-final", "final", "5000.00"), ("t-acceptance", "acceptance", "3000.00")],
            ),
            (
                "MZ-2026-102",
                c2,
                f1,
                {"cleaning": (1000, "25.00"), "counselling": (300, "80.00"), "meals": (500, "16.50")},
                [("volume", "service_volume", {"service_code": "cleaning", "quantity": 30}), ("mid", "evaluation_passed", {"stage": "mid_term"}), ("final", "evaluation_passed", {"stage": "final"})],
                [("t-volume", "volume", "4000.00"), ("t-mid", "mid", "6000.00"), ("t-final", "final", "6000.00")],
            ),
            (
                "MZ-2026-103",
                c3,
                f2,
                {"meals": (1000, "18.00"), "rehab_training": (200, "60.00")},
                [("volume", "service_volume", {"service_code": "meals", "quantity": 25}), ("mid", "evaluation_passed", {"stage": "mid_term"})],
                [("t-volume", "volume", "3000.00"), ("t-mid", "mid", "3000.00")],
            ),
            (
                "MZ-2026-104",
                c1,
                f2,
                {"companionship": (500, "20.00"), "home_verification": (200, "50.00")},
                [
                    ("volume", "service_volume", {"service_code": "companionship", "quantity": 20}),
                    ("date", "date", {"due_date": (today - timedelta(days=10)).isoformat()}),
                    ("mid", "evaluation_passed", {"stage": "mid_term"}),
                ],
                [("t-volume", "volume", "2000.00"), ("t-date", "date", "1500.00"), ("t-mid", "mid", "2000.00")],
            ),
            (
                "MZ-2026-105",
                c2,
                f2,
                {"visiting": (400, "30.00"), "haircut": (300, "12.00")},
                [("volume", "service_volume", {"service_code": "visiting", "quantity": 400})],
                [("t-volume", "volume", "2000.00")],
            ),
            (
                "MZ-2026-106",
                c3,
                f1,
                {"cleaning": (600, "22.00"), "counselling": (100, "90.00")},
                [("volume", "service_volume", {"service_code": "cleaning", "quantity": 15})],
                [("t-volume", "volume", "1000.00")],
            ),
        ]
        for no, contractor_id, fund_id, lines, milestones, tranches in specs:
            body = {
                "contract_no": no,
                "title": f"{no} 居家照护服务",
                "contractor_id": contractor_id,
                "fund_id": fund_id,
                "procurement_method": "open_tender",
                "start_date": (today - timedelta(days=90)).isoformat(),
                "end_date": (today + timedelta(days=270)).isoformat(),
                "lines": [{"service_code": code, "quantity": q, "unit_price": p} for code, (q, p) in lines.items()],
                "milestones": [{"milestone_id": mid, "kind": kind, **extra} for mid, kind, extra in milestones],
                "tranches": [{"tranche_id": tid, "milestone_id": mid, "amount": amount} for tid, mid, amount in tranches],
            }
            contract_id = self.post(h, "/contracts", h.purchaser, body)["contract_id"]
            k = Contract(
                contract_id,
                no,
                contractor_id,
                fund_id,
                today - timedelta(days=90),
                today + timedelta(days=270),
                {code: Line(q, fen(p)) for code, (q, p) in lines.items()},
                {mid: {"kind": kind, "status": "pending", **extra} for mid, kind, extra in milestones},
                {tid: Tranche(mid, fen(amount)) for tid, mid, amount in tranches},
            )
            h.contracts[contract_id] = k
            h.funds[fund_id].committed_fen += k.budget_fen

    # --- referrals ------------------------------------------------------------------------
    def referrals(self, h: History) -> None:
        rng = self.rng
        contracts = list(h.contracts.values())
        people = list(h.people)
        pairs = [(p, rng.choice(contracts)) for p in people]
        # Some people are referred a second time, to another contractor's contract.
        for p in rng.sample(people, 15):
            first = next(k for q, k in pairs if q == p)
            pairs.append((p, rng.choice([k for k in contracts if k.contractor_id != first.contractor_id])))
        for beneficiary_id, k in pairs:
            person = h.people[beneficiary_id]
            codes = sorted(k.lines)
            services = sorted(rng.sample(codes, rng.randint(1, len(codes))))
            interval = rng.choice(INTERVALS)
            body = {
                "beneficiary_id": beneficiary_id,
                "contract_id": k.contract_id,
                "services": services,
                "channel": rng.choice(["village_coordinator", "one_door_window", "hotline_12349"]),
                "visit_interval_days": interval,
            }
            case_id = self.post(h, "/cases", h.purchaser, body)["case_id"]
            h.cases[case_id] = Case(case_id, beneficiary_id, k.contract_id, k.contractor_id, person.township, person.village, person.level, services, interval)
        for case in list(h.cases.values()):
            token = h.contractors[case.contractor_id].token
            roll = rng.random()
            if roll < 0.08:
                self.post(h, f"/cases/{case.case_id}/decline", token, {"reason": "服务区域外"})
                case.status = "declined"
            elif roll < 0.12:
                self.post(h, f"/cases/{case.case_id}/withdrawal", h.purchaser, {"reason": "对象已入住养老机构"})
                case.status = "withdrawn"
            elif roll < 0.15:
                pass  # still waiting for the contractor
            else:
                need = h.open_demand(case.contractor_id) + Fraction(1, CARER_RATIO[case.level])
                while need > h.enrolled(case.contractor_id):
                    self.enrol(h, case.contractor_id)
                self.post(h, f"/cases/{case.case_id}/acceptance", token)
                case.status = "accepted"

    # --- visits ---------------------------------------------------------------------------
    def deliver(self, h: History) -> None:
        rng = self.rng
        plan: list[str] = []
        for case in h.cases.values():
            if case.status == "accepted":
                plan += [case.case_id] * rng.randint(4, 18)
        rng.shuffle(plan)
        changed_at = len(plan) // 2
        for n, case_id in enumerate(plan):
            if n == changed_at:
                self.category_changes(h)
            case = h.cases[case_id]
            k = h.contracts[case.contract_id]
            c = h.contractors[case.contractor_id]
            worker_id = rng.choice([w for w in c.workers if h.workers[w].enrolled])
            service = rng.choice(case.services)
            started = h.now - timedelta(hours=rng.randint(1, 1400), minutes=rng.randint(1, 59))
            body = {
                "case_id": case_id,
                "worker_id": worker_id,
                "service_code": service,
                "started_at": iso(started),
                "ended_at": iso(started + timedelta(minutes=45)),
                "location": f"{case.village}{rng.randint(1, 99)}号",
                "evidence_hash": "sha256:" + "%064x" % rng.getrandbits(256),
            }
            r = self.client.post("/visits", json=body, headers=c.token)
            assert r.status_code == 201, r.text
            out = r.json()
            h.last_position = max(h.last_position, out["position"])
            line = k.lines[service]
            line.posted += 1
            line.delivered += 1
            line.running_max = max(line.running_max, line.delivered)
            person = h.people[case.beneficiary_id]
            h.visits[out["visit_id"]] = Visit(
                out["visit_id"],
                case_id,
                k.contract_id,
                k.contractor_id,
                k.fund_id,
                worker_id,
                case.beneficiary_id,
                case.township,
                case.village,
                service,
                started,
                person.category,
                line.price_fen,
            )
        for k in h.contracts.values():
            for m in k.milestones.values():
                if m["kind"] == "service_volume" and k.lines[m["service_code"]].running_max >= m["quantity"]:
                    m["status"] = "fulfilled"
        # The history relies on these volumes being reached, and one never.
        fulfilled = {k.contract_no for k in h.contracts.values() if k.milestones["volume"]["status"] == "fulfilled"}
        assert fulfilled == {"MZ-2026-101", "MZ-2026-102", "MZ-2026-103", "MZ-2026-104", "MZ-2026-106"}, fulfilled

    def category_changes(self, h: History) -> None:
        """Some people's category is raised half-way: visits before count under the old one."""
        rng = self.rng
        for beneficiary_id in rng.sample(list(h.people), 20):
            person = h.people[beneficiary_id]
            rank = CATEGORIES.index(person.category)
            if rank == 0:
                continue
            new = CATEGORIES[rank - 1]
            self.post(h, f"/beneficiaries/{beneficiary_id}/category-changes", h.purchaser, {"category": new, "direction": "raise", "reason": "家庭状况变化"})
            person.category = new

    def corrections(self, h: History) -> None:
        """Confirmations, disputes, voids and spot checks, in a random order, as the rules allow."""
        rng = self.rng
        ids = list(h.visits)
        ops = ["confirm"] * 150 + ["dispute"] * 25 + ["void"] * 25 + ["spot"] * 40
        rng.shuffle(ops)
        for op in ops:
            v = h.visits[rng.choice(ids)]
            line = h.contracts[v.contract_id].lines[v.service]
            token = h.contractors[v.contractor_id].token
            if op == "confirm" and not v.voided and v.confirmation is None:
                self.post(h, f"/visits/{v.visit_id}/confirmation", token, SIGNED_BY_BENEFICIARY)
                v.confirmation = "confirmed"
                line.confirmed += 1
                v.events.append("Visit.Confirmed")
            elif op == "dispute" and not v.voided and v.confirmation != "disputed":
                self.post(h, f"/visits/{v.visit_id}/dispute", h.purchaser, {"reason": "回访称未上门", "channel": "follow_up_call"})
                if v.confirmation == "confirmed":
                    line.confirmed -= 1
                v.confirmation = "disputed"
                line.disputed += 1
                self._stop_counting(v, line)
                v.events.append("Visit.Disputed")
            elif op == "void" and not v.voided:
                self.post(h, f"/visits/{v.visit_id}/void", token, {"reason": "录入重复"})
                v.voided = True
                line.voided += 1
                self._stop_counting(v, line)
                v.events.append("Visit.Voided")
            elif op == "spot" and v.spot_check is None:
                result = rng.choice(["verified", "verified", "not_found", "falsified"])
                self.post(h, f"/visits/{v.visit_id}/spot-check", h.purchaser, {"result": result, "note": "随机抽查"})
                v.spot_check = result
                if result != "verified":
                    line.failed += 1
                    self._stop_counting(v, line)
                v.events.append("Visit.SpotChecked")

    @staticmethod
    def _stop_counting(v: Visit, line: Line) -> None:
        if v.counts:
            v.counts = False
            line.delivered -= 1

    def endings(self, h: History) -> None:
        """Some accepted cases are closed or withdrawn; a worker leaves one contractor."""
        rng = self.rng
        for case in list(h.cases.values()):
            if case.status != "accepted":
                continue
            roll = rng.random()
            if roll < 0.07:
                self.post(h, f"/cases/{case.case_id}/closure", h.contractors[case.contractor_id].token, {"reason": "服务目标达成"})
                case.status = "closed"
            elif roll < 0.11:
                self.post(h, f"/cases/{case.case_id}/withdrawal", h.purchaser, {"reason": "对象迁出"})
                case.status = "withdrawn"
        c2 = list(h.contractors)[1]
        leaving = next(w for w in h.contractors[c2].workers if any(v.worker_id == w for v in h.visits.values()))
        self.enrol(h, c2)
        self.post(h, f"/contractors/{c2}/workers/{leaving}/removal", h.contractors[c2].token, {"reason": "离职"})
        h.workers[leaving].enrolled = False
        h.removed_worker = leaving

    # --- evaluations, tranches, the end of two contracts -----------------------------------
    def evaluate(self, h: History, k: Contract, stage: str, scores: dict[str, Any] | None, *, conclude: bool = True, third_party: str | None = None) -> Evaluation:
        body: dict[str, Any] = {"contract_id": k.contract_id, "stage": stage}
        body.update({"third_party": third_party} if third_party else {"panel": PANEL})
        ev = Evaluation(self.post(h, "/evaluations", h.purchaser, body)["evaluation_id"], stage)
        k.evaluations.append(ev)
        if scores:
            self.post(h, f"/evaluations/{ev.evaluation_id}/scores", h.evaluator, {"scores": scores})
            ev.scores.update({i: str(Decimal(str(s)).quantize(Decimal("0.01"))) for i, s in scores.items()})
        if conclude:
            self.post(h, f"/evaluations/{ev.evaluation_id}/conclusion", h.evaluator, {"report": "评估报告"})
            total = weighted({i: Decimal(s) for i, s in ev.scores.items()})
            ev.status, ev.total, ev.grade = "concluded", str(total), grade_of(total)
            if PAYOUT[ev.grade] > 0:
                for m in k.milestones.values():
                    if m["kind"] == "evaluation_passed" and m["stage"] == stage:
                        m["status"] = "fulfilled"
                        m["evaluation"] = ev
        return ev

    def release(self, h: History, k: Contract, tid: str) -> None:
        self.post(h, f"/contracts/{k.contract_id}/tranches/{tid}/release", h.finance)
        t = k.tranches[tid]
        amount = t.amount_fen - t.reduced_fen
        ev = k.milestones[t.milestone_id].get("evaluation")
        if ev is not None:
            amount = int((Decimal(amount) * PAYOUT[ev.grade]).quantize(Decimal("1")))
        t.status, t.released_fen, t.withheld_fen = "released", amount, t.amount_fen - amount
        h.funds[k.fund_id].disbursed_fen += amount

    def decommit(self, h: History, k: Contract) -> None:
        remainder = k.budget_fen - k.decommitted_fen - k.released_fen
        k.decommitted_fen += remainder
        h.funds[k.fund_id].committed_fen -= remainder

    def evaluations_and_payments(self, h: History) -> None:
        k1, k2, k3, k4, k5, k6 = (h.contract_by_no(f"MZ-2026-10{n}") for n in range(1, 7))
        uniform = lambda v: {i: v for i in WEIGHTS}  # noqa: E731

        # K1: volume paid; mid-term good; final qualified, appealed, raised to good; accepted and settled.
        self.release(h, k1, "t-volume")
        self.evaluate(h, k1, "mid_term", uniform(85))
        self.release(h, k1, "t-mid")
        final = self.evaluate(h, k1, "final", uniform(70))
        self.post(h, f"/evaluations/{final.evaluation_id}/appeal", h.contractors[k1.contractor_id].token, {"reason": "满意度调查样本过少"})
        final.status, final.appeal = "appealed", "pending"
        revised = {"effectiveness": 95, "satisfaction": 95, "social_benefit": 95, "administration": 90, "record_keeping": 90, "progress": 90}
        self.post(h, f"/evaluations/{final.evaluation_id}/appeal-resolution", h.purchaser, {"upheld": True, "revised_scores": revised, "note": "复核上调"})
        final.scores.update({i: f"{s}.00" for i, s in revised.items()})
        total = weighted({i: Decimal(s) for i, s in final.scores.items()})
        final.status, final.appeal, final.total, final.grade = "final", "upheld", str(total), grade_of(total)
        self.release(h, k1, "t-final")
        self.post(h, f"/contracts/{k1.contract_id}/acceptance", h.purchaser, {"note": "验收合格"})
        k1.status = "accepted"
        k1.milestones["acceptance"]["status"] = "fulfilled"
        self.release(h, k1, "t-acceptance")
        self.post(h, f"/contracts/{k1.contract_id}/settlement", h.finance)
        k1.status = "settled"
        self.decommit(h, k1)
        h.settled = k1.contract_id

        # K2: a reduced volume tranche; a qualified mid-term (80% paid); suspended and resumed;
        # a final evaluation still being scored.
        self.post(h, f"/contracts/{k2.contract_id}/tranches/t-volume/reduction", h.finance, {"amount": "500.00", "reason": "台账不全"})
        k2.tranches["t-volume"].reduced_fen = 50000
        self.release(h, k2, "t-volume")
        scores = {
            "administration": 70,
            "record_keeping": 60,
            "progress": 65,
            "quality_system": 62,
            "risk": 66,
            "implementation": 64,
            "effectiveness": "63.50",
            "satisfaction": 68,
            "social_benefit": 61,
        }
        self.evaluate(h, k2, "mid_term", scores, third_party="省社会工作评估中心")
        self.release(h, k2, "t-mid")
        self.post(h, f"/contracts/{k2.contract_id}/suspension", h.purchaser, {"reason": "整改"})
        self.post(h, f"/contracts/{k2.contract_id}/resumption", h.purchaser)
        self.evaluate(h, k2, "final", {"administration": 88, "risk": "77.25"}, conclude=False)

        # K3: volume paid, an unqualified mid-term, its tranche withheld, then terminated.
        self.release(h, k3, "t-volume")
        self.evaluate(h, k3, "mid_term", uniform(50))
        self.post(h, f"/contracts/{k3.contract_id}/tranches/t-mid/withholding", h.finance, {"reason": "中期评估不合格"})
        t = k3.tranches["t-mid"]
        t.status, t.withheld_fen = "withheld", t.amount_fen
        self.post(h, f"/contracts/{k3.contract_id}/termination", h.purchaser, {"reason": "breach", "note": "服务质量严重不达标"})
        k3.status = "terminated"
        self.decommit(h, k3)
        h.terminated = k3.contract_id

        # K4: the date milestone is confirmed; an evaluation opened, nothing scored. Its
        # fulfilled tranches wait for finance, as does K6's.
        self.post(h, f"/contracts/{k4.contract_id}/milestones/date/confirmation", h.purchaser)
        k4.milestones["date"]["status"] = "fulfilled"
        self.evaluate(h, k4, "mid_term", None, conclude=False)


def _needs(rng: random.Random) -> dict[str, int]:
    indicators = ["income", "housing", "illness", "disability", "education", "employment", "child_youth", "family_structure", "social_security", "social_participation"]
    return {i: rng.randint(0, 10) for i in indicators}
