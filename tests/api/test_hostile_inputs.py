"""Hostile inputs, about ninety per store, across commands and queries (issue 6): control
characters, surrogates and over-long text, integers and money past every range, dates at the
ends of the calendar, malformed and oversized bodies, national ID numbers and NULs in paths and
filters.

Whatever the exact code the product chooses, each answer is a JSON {"error", "detail"} with a
4xx status, never a 5xx or plain text; a refused command records nothing; no answer echoes a
national ID number; and afterwards the read side reaches the head of the log without a stall
and equals a clean rebuild. A few probes may also be accepted (a value exactly at a plausible
bound): then the read side must carry them, which the final checks prove."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.check_digits import with_credit_code_check
from tests.api.builders import INDICATORS, PANEL, World, beneficiary_body, contract_body, contractor_body, head, post, visit_body
from tests.api.probing import assert_read_models_equal_a_rebuild, assert_refusal, wait_for_read_side

ID_NUMBER = "330102195071117056"  # a national ID number typed into a path

Request = dict[str, Any]


@dataclass(frozen=True)
class Probe:
    name: str
    role: str
    method: str
    path: str  # formatted with the world as `w` and, if named, a `fresh_visit` posted first
    request: Callable[[World, int], Request] = lambda w, n: {}
    may_accept: bool = False  # a value at a plausible bound: accepted is fine if the read side carries it
    within: float = 5.0  # seconds the answer may take


def _with(base: Callable[[World, int], dict[str, Any]], **changes: Any) -> Callable[[World, int], Request]:
    return lambda w, n: {"json": {**base(w, n), **changes}}


def _raw(content: bytes, content_type: str = "application/json") -> Callable[[World, int], Request]:
    return lambda w, n: {"content": content, "headers": {"Content-Type": content_type}}


def _surrogate(base: Callable[[World, int], dict[str, Any]], name: str, escaped: str) -> Callable[[World, int], Request]:
    """A body whose field holds a lone UTF-16 surrogate: valid JSON, no valid text."""
    marker = "@@surrogate@@"
    return lambda w, n: _raw(json.dumps({**base(w, n), name: marker}).replace(marker, escaped).encode())(w, n)


def _worker(w: World, n: int) -> dict[str, Any]:
    return {"name": f"护理员{n}", "qualification": "carer"}


def _contractor(w: World, n: int) -> dict[str, Any]:
    return contractor_body(f"机构{n}", with_credit_code_check(f"52330100MJ{n:07d}"))


def _beneficiary(w: World, n: int) -> dict[str, Any]:
    return beneficiary_body(500 + n)


def _contract(w: World, n: int) -> dict[str, Any]:
    return contract_body(w.a.contractor_id, w.fund_id, no=f"MZ-HOSTILE-{n}")


def _contract_changed(change: Callable[[dict[str, Any]], None]) -> Callable[[World, int], Request]:
    def build(w: World, n: int) -> Request:
        body = _contract(w, n)
        change(body)
        return {"json": body}

    return build


def _milestone_quantity(q: Any) -> Callable[[World, int], Request]:
    return _contract_changed(lambda b: b["milestones"][0].update(quantity=q))


def _line(**changes: Any) -> Callable[[World, int], Request]:
    return _contract_changed(lambda b: b["lines"][0].update(**changes))


def _fund(w: World, n: int) -> dict[str, Any]:
    return {"name": f"经费{n}", "source": "work_funds", "fiscal_year": 2026, "amount": "10.00"}


def _visit(w: World, n: int) -> dict[str, Any]:
    return visit_body(w.a.case_id, w.a.worker_id, hours_ago=4 + n % 20)


def _panel(members: list[dict[str, Any]]) -> Callable[[World, int], Request]:
    return lambda w, n: {"json": {"contract_id": w.a.contract_id, "stage": "final", "panel": members}}


def _scores(value: Any) -> Callable[[World, int], Request]:
    return lambda w, n: {"json": {"scores": {i: value for i in INDICATORS}}}


def _json(body: dict[str, Any]) -> Callable[[World, int], Request]:
    return lambda w, n: {"json": body}


def _headers(**headers: str) -> Callable[[World, int], Request]:
    return lambda w, n: {"json": _visit(w, n), "headers": headers}


NUL, BELL, ESC, DEL = "x\x00y", "x\x07y", "x\x1b[31my", "x\x7fy"
LONG_201, LONG_501, LONG_10K = "长" * 201, "长" * 501, "x" * 10_000
# Each dispute or void goes to a visit of its own, so that one accepted by mistake cannot make
# the next refused for being already disputed.
DISPUTE = "/visits/{fresh_visit}/dispute"
VOID = "/visits/{fresh_visit}/void"
WORKERS = "/contractors/{w.a.contractor_id}/workers"
EVALUATION = "/evaluations/{w.a.evaluation_id}"
NESTED = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b', "qualification": "carer"}'
MEMBERS = [{"name": f"评委{i}"} for i in range(10_001)]


def _texts() -> list[Probe]:
    """Control characters, and text past each length, in every kind of free text."""
    probes = []
    for label, value in (("NUL", NUL), ("BEL", BELL), ("ESC", ESC), ("DEL", DEL)):
        probes += [
            Probe(f"worker name with {label}", "contractor", "POST", WORKERS, _with(_worker, name=value)),
            Probe(f"dispute reason with {label}", "purchaser", "POST", DISPUTE, _json({"reason": value, "channel": "follow_up_call"})),
        ]
    probes += [
        Probe("contractor name with NUL", "purchaser", "POST", "/contractors", _with(_contractor, name=NUL)),
        Probe("contract number with NUL", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(contract_no=NUL))),
        Probe("contract title with NUL", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(title=NUL))),
        Probe("beneficiary name with NUL", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, name=NUL)),
        Probe("township with NUL", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, township=NUL)),
        Probe("village with NUL", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, village=NUL)),
        Probe("household with NUL", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, household_id=NUL)),
        Probe("visit location with NUL", "contractor", "POST", "/visits", _with(_visit, location=NUL)),
        Probe("visit notes with NUL", "contractor", "POST", "/visits", _with(_visit, notes=NUL)),
        Probe("evidence hash with NUL", "contractor", "POST", "/visits", _with(_visit, evidence_hash=NUL)),
        Probe("void reason with NUL", "contractor", "POST", VOID, _json({"reason": NUL})),
        Probe("fund name with NUL", "finance", "POST", "/funds", _with(_fund, name=NUL)),
        Probe("panel member with NUL", "purchaser", "POST", "/evaluations", _panel([{**PANEL[0], "name": NUL}, *PANEL[1:]])),
        Probe("third party with NUL", "purchaser", "POST", "/evaluations", lambda w, n: {"json": {"contract_id": w.a.contract_id, "stage": "final", "third_party": NUL}}),
        Probe("evaluation report with NUL", "evaluator", "POST", EVALUATION + "/conclusion", _json({"report": NUL})),
        Probe("appeal reason with NUL", "contractor", "POST", EVALUATION + "/appeal", _json({"reason": NUL})),
        Probe("decline reason with NUL", "contractor", "POST", "/cases/{w.a.case_id}/decline", _json({"reason": NUL})),
        Probe(
            "category change reason with NUL", "purchaser", "POST", "/beneficiaries/{w.a.beneficiary_id}/category-changes", _json({"category": "extreme_poverty", "direction": "raise", "reason": NUL})
        ),
        Probe("withholding reason with NUL", "finance", "POST", "/contracts/{w.a.contract_id}/tranches/t-mid/withholding", _json({"reason": NUL})),
        Probe("termination note with NUL", "purchaser", "POST", "/contracts/{w.b.contract_id}/termination", _json({"reason": "mutual", "note": NUL})),
        Probe("worker name as a lone surrogate", "contractor", "POST", WORKERS, _surrogate(_worker, "name", "\\ud800x")),
        Probe("dispute reason as a lone surrogate", "purchaser", "POST", DISPUTE, _surrogate(lambda w, n: {"reason": "", "channel": "follow_up_call"}, "reason", "\\udfff")),
        Probe("township as a lone surrogate", "purchaser", "POST", "/beneficiaries", _surrogate(_beneficiary, "township", "\\ud83d")),
        # Lengths: 201 fits a 200 column only if the product widened it; 501 and 10,000 fit nowhere.
        Probe("worker name of 201", "contractor", "POST", WORKERS, _with(_worker, name=LONG_201), may_accept=True),
        Probe("worker name of 501", "contractor", "POST", WORKERS, _with(_worker, name=LONG_501)),
        Probe("worker name of 10,000", "contractor", "POST", WORKERS, _with(_worker, name=LONG_10K)),
        Probe("contract number of 201", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(contract_no="N" * 201)), may_accept=True),
        Probe("contractor name of 201", "purchaser", "POST", "/contractors", _with(_contractor, name=LONG_201), may_accept=True),
        Probe("township of 201", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, township=LONG_201), may_accept=True),
        Probe("beneficiary name of 501", "purchaser", "POST", "/beneficiaries", _with(_beneficiary, name=LONG_501)),
        Probe("dispute reason of 10,000", "purchaser", "POST", DISPUTE, _json({"reason": LONG_10K, "channel": "follow_up_call"})),
        Probe("visit notes of 10,000", "contractor", "POST", "/visits", _with(_visit, notes=LONG_10K)),
        Probe("visit location of 501", "contractor", "POST", "/visits", _with(_visit, location=LONG_501)),
        Probe("evidence hash of 10,000", "contractor", "POST", "/visits", _with(_visit, evidence_hash=LONG_10K)),
        Probe("fund name of 10,000", "finance", "POST", "/funds", _with(_fund, name=LONG_10K)),
        Probe("credit code of 201", "purchaser", "POST", "/contractors", _with(_contractor, credit_code="9" * 201)),
    ]
    return probes


def _numbers() -> list[Probe]:
    """Integers and money past their ranges."""
    return [
        Probe("milestone quantity 2^31-1", "purchaser", "POST", "/contracts", _milestone_quantity(2**31 - 1), may_accept=True),
        Probe("milestone quantity 2^31", "purchaser", "POST", "/contracts", _milestone_quantity(2**31), may_accept=True),
        Probe("milestone quantity 10^20", "purchaser", "POST", "/contracts", _milestone_quantity(10**20)),
        Probe("milestone quantity negative", "purchaser", "POST", "/contracts", _milestone_quantity(-1)),
        Probe("line quantity 2^31", "purchaser", "POST", "/contracts", _line(quantity=2**31)),
        Probe("line quantity 10^20", "purchaser", "POST", "/contracts", _line(quantity=10**20)),
        Probe("line quantity negative", "purchaser", "POST", "/contracts", _line(quantity=-5)),
        Probe("fund fiscal year 10^20", "finance", "POST", "/funds", _with(_fund, fiscal_year=10**20)),
        Probe("fund fiscal year negative", "finance", "POST", "/funds", _with(_fund, fiscal_year=-2026)),
        Probe(
            "visit interval 10^20 days",
            "purchaser",
            "POST",
            "/cases",
            lambda w, n: {"json": {"beneficiary_id": w.a.beneficiary_id, "contract_id": w.a.contract_id, "services": ["meals"], "channel": "hotline_12349", "visit_interval_days": 10**20}},
        ),
        Probe("need score 2^31", "purchaser", "POST", "/beneficiaries/{w.a.beneficiary_id}/needs-assessments", _json({"scores": {"income": 2**31}})),
        Probe("evaluation scores 10^20", "evaluator", "POST", EVALUATION + "/scores", _scores(10**20)),
        Probe("evaluation scores negative", "evaluator", "POST", EVALUATION + "/scores", _scores(-1)),
        Probe("money as a float with two places", "finance", "POST", "/funds", _with(_fund, amount=10.5), may_accept=True),
        Probe("money as a float that is not two places", "finance", "POST", "/funds", _with(_fund, amount=0.1 + 0.2)),
        Probe("money with three places", "finance", "POST", "/funds", _with(_fund, amount="10.005")),
        Probe("money huge", "finance", "POST", "/funds", _with(_fund, amount="1e30")),
        Probe("money as a huge float", "finance", "POST", "/purchase-ceilings", _json({"fiscal_year": 2029, "prior_year_subsidy_total": 1e300})),
        Probe("money NaN", "finance", "POST", "/funds", _with(_fund, amount="NaN")),
        Probe("money Infinity", "finance", "POST", "/funds", _with(_fund, amount="Infinity")),
        Probe("money negative", "finance", "POST", "/funds", _with(_fund, amount="-10.00")),
        Probe("unit price of twenty digits", "purchaser", "POST", "/contracts", _line(unit_price="99999999999999999999.00")),
        Probe("tranche amount huge", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b["tranches"][0].update(amount="1e20"))),
        Probe("reduction of 1e400", "finance", "POST", "/contracts/{w.a.contract_id}/tranches/t-mid/reduction", _json({"amount": "1e400", "reason": "扣减"})),
    ]


def _times() -> list[Probe]:
    """Dates at the ends of the calendar, times without a zone, periods the wrong way round."""
    return [
        Probe("contract starting in year 1", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(start_date="0001-01-01"))),
        Probe("contract starting in 9998", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(start_date="9998-06-01", end_date="9999-06-01"))),
        Probe("contract ending on 9999-12-31", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(end_date="9999-12-31"))),
        Probe(
            "milestone due on 9999-12-31", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b["milestones"].append({"milestone_id": "late", "kind": "date", "due_date": "9999-12-31"}))
        ),
        Probe("visit in 9999", "contractor", "POST", "/visits", _with(_visit, started_at="9999-12-31T23:00:00Z", ended_at="9999-12-31T23:30:00Z")),
        Probe("visit without a zone", "contractor", "POST", "/visits", _with(_visit, started_at="2026-01-01T10:00:00", ended_at="2026-01-01T10:30:00")),
        Probe("caseload ending in year 1", "purchaser", "GET", "/read/caseload?period_end=0001-01-01T00:00:00Z"),
        Probe("caseload starting in 9999", "purchaser", "GET", "/read/caseload?period_start=9999-12-31T23:59:59Z"),
        Probe("caseload as of 9999", "purchaser", "GET", "/read/caseload?as_of=9999-12-31T23:59:59Z"),
        Probe("caseload period backwards", "purchaser", "GET", "/read/caseload?period_start=2026-05-01T00:00:00Z&period_end=2026-01-01T00:00:00Z"),
        Probe("caseload time without a zone", "purchaser", "GET", "/read/caseload?period_end=2026-01-01T00:00:00", may_accept=True),  # read as UTC
        Probe("audit since year 1", "auditor", "GET", "/read/audit?since=0001-01-01T00:00:00Z", may_accept=True),
        Probe("audit until 9999", "auditor", "GET", "/read/audit?until=9999-12-31T23:59:59Z", may_accept=True),
        Probe("audit until 0.5", "auditor", "GET", "/read/audit?until=0.5"),
        Probe("audit since a Unix time", "auditor", "GET", "/read/audit?since=1700000000"),
        Probe("audit period backwards", "auditor", "GET", "/read/audit?since=2026-05-01T00:00:00Z&until=2026-01-01T00:00:00Z"),
    ]


def _queries() -> list[Probe]:
    """Query parameters out of range and filters with NULs."""
    return [
        Probe("fiscal year 3000000000", "finance", "GET", "/read/funds?fiscal_year=3000000000"),
        Probe("min_position 10^12", "auditor", "GET", "/read/audit?min_position=1000000000000", within=1.0),
        Probe("min_position 10^12 on contracts", "purchaser", "GET", "/read/contracts?min_position=1000000000000", within=1.0),
        Probe("min_position negative", "auditor", "GET", "/read/audit?min_position=-1"),
        Probe("limit 10^20", "auditor", "GET", "/read/audit?limit=100000000000000000000"),
        Probe("cursor that is a NUL", "auditor", "GET", "/read/audit?cursor=%00"),
        Probe("audit actor filter with NUL", "auditor", "GET", "/read/audit?actor_id=a%00b", may_accept=True),
        Probe("audit event type filter with NUL", "auditor", "GET", "/read/audit?event_type=%00", may_accept=True),
        Probe("caseload township filter with NUL", "purchaser", "GET", "/read/caseload?group_by=township&township=%E5%9F%8E%00", may_accept=True),
        Probe("caseload contractor filter with NUL", "purchaser", "GET", "/read/caseload?contractor_id=%00", may_accept=True),
        Probe("contracts status filter with NUL", "purchaser", "GET", "/read/contracts?status=%00", may_accept=True),
        Probe("funds source filter with NUL", "finance", "GET", "/read/funds?source=%00", may_accept=True),
    ]


def _bodies() -> list[Probe]:
    """Bodies that are no JSON object, too big, too deep, or too long a list; bad headers."""
    return [
        Probe("malformed JSON", "contractor", "POST", "/visits", _raw(b'{"case_id": ')),
        Probe("JSON sent as text/plain", "contractor", "POST", WORKERS, _raw(json.dumps({"name": "护理员"}).encode(), "text/plain")),
        Probe("a form instead of JSON", "contractor", "POST", WORKERS, _raw(b"name=x&qualification=carer", "application/x-www-form-urlencoded")),
        Probe("a 2 MB body", "contractor", "POST", "/visits", lambda w, n: {"json": {**_visit(w, n), "notes": "x" * 2_000_000}}),
        Probe("a 2 MB body of unknown fields", "finance", "POST", "/funds", lambda w, n: {"json": {**_fund(w, n), **{f"k{i}": "v" * 100 for i in range(20_000)}}}),
        Probe("a panel of 10,001", "purchaser", "POST", "/evaluations", _panel(MEMBERS)),
        Probe(
            "a referral of 10,001 services",
            "purchaser",
            "POST",
            "/cases",
            lambda w, n: {"json": {"beneficiary_id": w.a.beneficiary_id, "contract_id": w.a.contract_id, "services": ["meals"] * 10_001, "channel": "hotline_12349"}},
        ),
        Probe("10,001 attestations", "purchaser", "POST", "/contractors/{w.a.contractor_id}/attestations", _json({"attestations": ["independent_legal_person"] * 10_001})),
        Probe("a contract of 10,001 lines", "purchaser", "POST", "/contracts", _contract_changed(lambda b: b.update(lines=b["lines"][:1] * 10_001))),
        Probe("JSON nested 100,000 deep", "contractor", "POST", WORKERS, _raw(NESTED)),
        Probe("a number of 1e400 as the body", "contractor", "POST", "/visits", _raw(b"1e400")),
        Probe("an Idempotency-Key of 201", "contractor", "POST", "/visits", _headers(**{"Idempotency-Key": "k" * 201})),
        Probe("an empty Idempotency-Key", "contractor", "POST", "/visits", _headers(**{"Idempotency-Key": ""})),
        Probe("a token of 10,000", "contractor", "GET", "/read/audit", lambda w, n: {"headers": {"Authorization": "Bearer " + "t" * 10_000}}),
    ]


def _paths() -> list[Probe]:
    """National ID numbers, NULs and very long strings where an id belongs."""
    return [
        Probe("an ID number as a beneficiary id", "purchaser", "GET", f"/beneficiaries/{ID_NUMBER}"),
        Probe("an ID number in a command's path", "purchaser", "POST", f"/beneficiaries/{ID_NUMBER}/deregistration", _json({"reason": "deceased"})),
        Probe("an ID number in a history path", "auditor", "GET", f"/beneficiaries/{ID_NUMBER}/history"),
        Probe("an ID number as a read-model id", "finance", "GET", f"/read/funds/{ID_NUMBER}"),
        Probe("a NUL as a visit id", "auditor", "GET", "/visits/%00"),
        Probe("a NUL in a history path", "auditor", "GET", "/contracts/a%00b/history"),
        Probe("a NUL as a read-model id", "auditor", "GET", "/read/contracts/%00"),
        Probe("a NUL in a command's path", "finance", "POST", "/contracts/%00/tranches/%00/release"),
        Probe("an id of 10,000", "auditor", "GET", "/funds/" + "f" * 10_000),
        Probe("a tranche id of 10,000", "finance", "POST", "/contracts/{w.a.contract_id}/tranches/" + "t" * 10_000 + "/release"),
    ]


PROBES = _texts() + _numbers() + _times() + _queries() + _bodies() + _paths()


@dataclass
class Tally:
    refused: int = 0
    accepted: int = 0
    failures: list[str] = field(default_factory=list)


def _check(client, world: World, probe: Probe, n: int, tally: Tally) -> None:  # type: ignore[no-untyped-def]
    fresh_visit = post(client, "/visits", world.a.token, _visit(world, n))["visit_id"] if "{fresh_visit}" in probe.path else None
    request = probe.request(world, n)
    headers = {**world.role(probe.role), **request.pop("headers", {})}
    path = probe.path.format(w=world, fresh_visit=fresh_visit)
    before = head(client)
    started = time.monotonic()
    r = client.request(probe.method, path, headers=headers, **request)
    took = time.monotonic() - started
    assert took < probe.within, f"answered in {took:.1f} s"
    assert ID_NUMBER not in r.text and beneficiary_body(500 + n)["national_id"] not in r.text, "an ID number is echoed"
    if probe.may_accept and r.status_code < 300:
        assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
        tally.accepted += 1
        return
    assert_refusal(r, probe.name)
    assert head(client) == before, "a refused command recorded events"
    tally.refused += 1


def test_hostile_inputs_are_refused_cleanly_or_carried_by_every_read_model(client, world):
    assert len(PROBES) >= 85 and len({p.name for p in PROBES}) == len(PROBES)
    tally = Tally()
    for n, probe in enumerate(PROBES):
        try:
            _check(client, world, probe, n, tally)
        except AssertionError as e:  # every probe runs; the failures are reported together
            tally.failures.append(f"{probe.name}: {str(e)[:300]}")
    assert not tally.failures, f"{len(tally.failures)} of {len(PROBES)} probes failed:\n" + "\n".join(tally.failures)
    assert tally.refused + tally.accepted == len(PROBES)
    print(f"{len(PROBES)} hostile inputs: {tally.refused} refused, {tally.accepted} accepted at a bound")

    wait_for_read_side(client, world.auditor)
    assert_read_models_equal_a_rebuild(client)
