"""Read-model tables (SQLAlchemy Core). Alembic owns their schema; the event store's tables stay
the library's. Money is integer fen; times are timezone-aware UTC.

`define(metadata, suffix)` builds the same tables under another name, so a rebuild can fill a
shadow copy while the live tables keep serving, then swap in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, false

from ledger.domain import limits
from ledger.domain.limits import TextLimit

ID = String(64)


def sized(limit: TextLimit) -> String:
    """A column that holds every text the limit accepts (their lengths come from the domain)."""
    return String(limit.max_length)


@dataclass(frozen=True)
class Tables:
    positions: Table
    audit_events: Table
    audit_owners: Table
    cases: Table
    visits: Table
    workers: Table
    contractors: Table
    contracts: Table
    lines: Table
    milestones: Table
    tranches: Table
    evaluations: Table
    fulfilment_visits: Table
    funds: Table
    fund_contracts: Table
    fund_lines: Table
    fund_beneficiaries: Table
    fund_visits: Table
    fund_breakdown: Table
    flags: Table
    flag_visits: Table
    flag_workers: Table
    flag_hashes: Table
    flag_beneficiaries: Table
    flag_lines: Table
    flag_contracts: Table
    flag_worker_days: Table
    trace_funds: Table
    trace_contracts: Table
    trace_lines: Table
    trace_milestones: Table
    trace_counted: Table
    trace_tranches: Table
    trace_disbursements: Table
    trace_beneficiaries: Table
    trace_visits: Table
    trace_visit_events: Table
    rollup_visits: Table
    rollup_cases: Table
    rollup_cells: Table
    rollup_open_cases: Table
    rollup_worker_cases: Table
    rollup_workers: Table


def define(metadata: MetaData, suffix: str = "") -> Tables:
    def t(name: str, *cols: object) -> Table:
        return Table(name + suffix, metadata, *cols)  # type: ignore[arg-type]

    def ix(name: str, *cols: str) -> Index:
        return Index(f"ix_{name}{suffix}_{'_'.join(cols)}", *cols)

    return Tables(
        positions=t(
            "projection_positions",
            Column("name", String(64), primary_key=True),
            Column("position", BigInteger, nullable=False),
            Column("event_time", DateTime(timezone=True)),
            Column("updated_at", DateTime(timezone=True)),
            # A projection that cannot apply an event stops there; the stall is kept here so every
            # process sees it, and is cleared by the next batch that applies (see projections/stalls.py).
            Column("stalled_position", BigInteger),
            Column("stalled_event_type", String(200)),
            Column("stalled_aggregate_id", String(200)),
            Column("stalled_error", String(200)),
            Column("stalled_message", String(1000)),
            Column("stalled_since", DateTime(timezone=True)),
            Column("retry_at", DateTime(timezone=True)),
            Column("attempts", Integer, nullable=False, default=0, server_default="0"),
        ),
        # --- audit trail ------------------------------------------------------------------
        audit_events=t(
            "audit_events",
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("actor_id", sized(limits.TOKEN_SUBJECT)),
            Column("role", String(32)),
            Column("organisation_id", sized(limits.TOKEN_ORGANISATION)),
            Column("correlation_id", String(200)),
            Column("aggregate_id", ID, nullable=False),
            Column("aggregate_type", String(64), nullable=False),
            Column("aggregate_version", Integer, nullable=False),
            Column("event_type", String(64), nullable=False),
            Column("owner_organisation", ID),
            Column("summary", Text, nullable=False),
            # The contract an event belongs to: its own id for a contract's events, the contract a
            # visit, case, evaluation or tally was opened under for theirs (0006_lists).
            Column("contract_id", ID),
            ix("audit_events", "aggregate_id"),
            # Filters page by position: each filter's index ends with it (0009_rollups).
            ix("audit_events", "actor_id", "position"),
            ix("audit_events", "event_type", "position"),
            ix("audit_events", "correlation_id", "position"),
            ix("audit_events", "organisation_id", "position"),
            ix("audit_events", "aggregate_type", "position"),
            ix("audit_events", "recorded_at"),
            ix("audit_events", "owner_organisation", "position"),
            ix("audit_events", "contract_id", "position"),
        ),
        audit_owners=t(
            "audit_owners",
            Column("aggregate_id", ID, primary_key=True),
            Column("aggregate_type", String(64), nullable=False),
            Column("owner_organisation", ID),
            Column("contract_id", ID),
        ),
        # --- caseload ---------------------------------------------------------------------
        cases=t(
            "caseload_cases",
            Column("case_id", ID, primary_key=True),
            Column("beneficiary_id", ID, nullable=False),
            Column("contract_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("township", sized(limits.TOWNSHIP), nullable=False),
            Column("village", sized(limits.VILLAGE), nullable=False),
            Column("self_care_level", String(32), nullable=False),
            Column("channel", String(32), nullable=False),
            Column("services", Text, nullable=False),
            Column("status", String(16), nullable=False),
            Column("visit_interval_days", Integer, nullable=False),
            Column("referred_at", DateTime(timezone=True), nullable=False),
            Column("accepted_at", DateTime(timezone=True)),
            Column("ended_at", DateTime(timezone=True)),
            Column("last_visit_at", DateTime(timezone=True)),
            Column("next_visit_due", DateTime(timezone=True)),
            Column("visit_count", Integer, nullable=False, default=0),
            ix("caseload_cases", "contractor_id", "status", "referred_at"),
            ix("caseload_cases", "status", "referred_at"),
            ix("caseload_cases", "township", "village"),
            # The case list pages by referral under each filter; overdue cases are a range of due times (0009_rollups).
            ix("caseload_cases", "contractor_id", "referred_at"),
            ix("caseload_cases", "contract_id", "referred_at"),
            ix("caseload_cases", "beneficiary_id", "referred_at"),
            ix("caseload_cases", "township", "village", "referred_at"),
            ix("caseload_cases", "status", "next_visit_due"),
        ),
        visits=t(
            "caseload_visits",
            Column("visit_id", ID, primary_key=True),
            Column("case_id", ID, nullable=False),
            Column("contract_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("worker_id", ID, nullable=False),
            Column("beneficiary_id", ID, nullable=False),
            Column("township", sized(limits.TOWNSHIP), nullable=False),
            Column("village", sized(limits.VILLAGE), nullable=False),
            Column("service_code", String(64), nullable=False),
            Column("started_at", DateTime(timezone=True), nullable=False),
            Column("ended_at", DateTime(timezone=True), nullable=False),
            Column("counts", Boolean, nullable=False),
            # What the visit list shows of a visit's later life, and where it entered the log (0006_lists).
            Column("confirmation", String(16)),
            Column("voided", Boolean, nullable=False, default=False, server_default=false()),
            Column("spot_check", String(32)),
            Column("delivered_position", BigInteger),
            ix("caseload_visits", "contractor_id", "started_at"),
            ix("caseload_visits", "worker_id", "started_at"),
            # A case's visits in order; with `counts`, a count of its visits in a period reads the index
            # alone (the caseload by contractor, township or village probes each case: 0013).
            ix("caseload_visits", "case_id", "started_at", "counts"),
            ix("caseload_visits", "contract_id", "started_at"),
            ix("caseload_visits", "beneficiary_id", "started_at"),
            ix("caseload_visits", "started_at"),
            ix("caseload_visits", "service_code", "started_at"),  # the visit list by service (0009_rollups)
            ix("caseload_visits", "township", "village", "started_at"),  # caseload of a township or village
        ),
        workers=t(
            "caseload_workers",
            Column("worker_id", ID, primary_key=True),
            Column("contractor_id", ID, nullable=False),
            Column("name", sized(limits.WORKER_NAME), nullable=False),
            Column("enrolled", Boolean, nullable=False),
            Column("qualification", sized(limits.QUALIFICATION)),
            Column("enrolled_at", DateTime(timezone=True)),
            Column("removed_at", DateTime(timezone=True)),
            ix("caseload_workers", "contractor_id"),
        ),
        contractors=t(
            "caseload_contractors",
            Column("contractor_id", ID, primary_key=True),
            Column("name", sized(limits.CONTRACTOR_NAME), nullable=False),
            Column("contractor_type", String(32), nullable=False),
            Column("status", String(16), nullable=False),
        ),
        # --- contract fulfilment ----------------------------------------------------------
        contracts=t(
            "fulfilment_contracts",
            Column("contract_id", ID, primary_key=True),
            Column("contract_no", sized(limits.CONTRACT_NO), nullable=False),
            Column("title", sized(limits.CONTRACT_TITLE), nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("fund_id", ID, nullable=False),
            Column("status", String(16), nullable=False),
            Column("start_date", Date, nullable=False),
            Column("end_date", Date, nullable=False),
            Column("signed_at", DateTime(timezone=True), nullable=False),
            Column("budget_fen", BigInteger, nullable=False),
            Column("committed_fen", BigInteger, nullable=False),
            Column("released_fen", BigInteger, nullable=False, default=0),
            Column("withheld_fen", BigInteger, nullable=False, default=0),
            ix("fulfilment_contracts", "contractor_id"),
            ix("fulfilment_contracts", "fund_id"),
            # The contract list pages by its sort column (0009_rollups).
            ix("fulfilment_contracts", "signed_at", "contract_id"),
            ix("fulfilment_contracts", "contract_no", "contract_id"),
            ix("fulfilment_contracts", "end_date", "contract_id"),
        ),
        lines=t(
            "fulfilment_lines",
            Column("contract_id", ID, primary_key=True),
            Column("service_code", String(64), primary_key=True),
            Column("quantity", Integer, nullable=False),
            Column("unit_price_fen", BigInteger, nullable=False),
            Column("posted", Integer, nullable=False, default=0),
            Column("delivered", Integer, nullable=False, default=0),
            Column("confirmed", Integer, nullable=False, default=0),
            Column("disputed", Integer, nullable=False, default=0),
            Column("voided", Integer, nullable=False, default=0),
            Column("failed_checks", Integer, nullable=False, default=0),
        ),
        milestones=t(
            "fulfilment_milestones",
            Column("contract_id", ID, primary_key=True),
            Column("milestone_id", sized(limits.MILESTONE_ID), primary_key=True),
            Column("kind", String(32), nullable=False),
            Column("title", sized(limits.MILESTONE_TITLE), nullable=False),
            Column("service_code", String(64)),
            Column("quantity", Integer),
            Column("stage", String(32)),
            Column("due_date", Date),
            Column("status", String(16), nullable=False),
            Column("fulfilled_at", DateTime(timezone=True)),
            # The evaluation whose result fulfilled an evaluation milestone: its grade sets the
            # share a release pays, and its appeal holds the release back.
            Column("evaluation_id", ID),
        ),
        tranches=t(
            "fulfilment_tranches",
            Column("contract_id", ID, primary_key=True),
            Column("tranche_id", sized(limits.TRANCHE_ID), primary_key=True),
            Column("milestone_id", sized(limits.MILESTONE_ID), nullable=False),
            Column("amount_fen", BigInteger, nullable=False),
            Column("reduced_fen", BigInteger, nullable=False, default=0),
            Column("released_fen", BigInteger, nullable=False, default=0),
            Column("withheld_fen", BigInteger, nullable=False, default=0),
            Column("status", String(16), nullable=False),
            Column("released_at", DateTime(timezone=True)),
            ix("fulfilment_tranches", "status", "contract_id", "tranche_id"),  # finance's worklist: the pending ones (0009_rollups)
        ),
        evaluations=t(
            "fulfilment_evaluations",
            Column("evaluation_id", ID, primary_key=True),
            Column("contract_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("stage", String(32), nullable=False),
            Column("status", String(16), nullable=False),
            Column("total", String(16)),
            Column("grade", String(16)),
            Column("appeal", String(16)),
            Column("scores", Text, nullable=False),
            Column("opened_at", DateTime(timezone=True), nullable=False),
            ix("fulfilment_evaluations", "contract_id"),
        ),
        fulfilment_visits=t(
            "fulfilment_visits",
            Column("visit_id", ID, primary_key=True),
            Column("contract_id", ID, nullable=False),
            Column("service_code", String(64), nullable=False),
            Column("confirmation", String(16)),
            Column("counts", Boolean, nullable=False),
        ),
        # --- fund usage -------------------------------------------------------------------
        funds=t(
            "fund_funds",
            Column("fund_id", ID, primary_key=True),
            Column("name", sized(limits.FUND_NAME), nullable=False),
            Column("source", String(32), nullable=False),
            Column("fiscal_year", Integer, nullable=False),
            Column("appropriated_fen", BigInteger, nullable=False),
            Column("committed_fen", BigInteger, nullable=False, default=0),
            Column("disbursed_fen", BigInteger, nullable=False, default=0),
            Column("appropriated_at", DateTime(timezone=True), nullable=False),
        ),
        fund_contracts=t(
            "fund_contracts",
            Column("contract_id", ID, primary_key=True),
            Column("fund_id", ID, nullable=False),
        ),
        fund_lines=t(
            "fund_lines",
            Column("contract_id", ID, primary_key=True),
            Column("service_code", String(64), primary_key=True),
            Column("unit_price_fen", BigInteger, nullable=False),
        ),
        fund_beneficiaries=t(
            "fund_beneficiaries",
            Column("beneficiary_id", ID, primary_key=True),
            Column("category", String(32), nullable=False),
        ),
        fund_visits=t(
            "fund_visits",
            Column("visit_id", ID, primary_key=True),
            Column("fund_id", ID, nullable=False),
            Column("township", sized(limits.TOWNSHIP), nullable=False),
            Column("service_class", String(32), nullable=False),
            Column("category", String(32), nullable=False),
            Column("value_fen", BigInteger, nullable=False),
            Column("counts", Boolean, nullable=False),
        ),
        fund_breakdown=t(
            "fund_breakdown",
            Column("fund_id", ID, primary_key=True),
            Column("dimension", String(32), primary_key=True),
            # A township, a service class or a beneficiary category: townships are the longest.
            Column("key", sized(limits.TOWNSHIP), primary_key=True),
            Column("contracted_fen", BigInteger, nullable=False, default=0),
            Column("delivered_fen", BigInteger, nullable=False, default=0),
            Column("visits", Integer, nullable=False, default=0),
        ),
        **_flag_tables(t, ix),
        **_trace(t, ix),
        **_rollups(t, ix),
    )


def _flag_tables(t: Any, ix: Any) -> dict[str, Table]:
    """The red-flags projection (projections/flags.py): the flags and what it needs to raise them."""
    return dict(
        flags=t(
            "flags",
            Column("flag_id", String(36), primary_key=True),
            Column("kind", String(32), nullable=False),
            Column("contractor_id", ID),
            Column("contract_id", ID),
            Column("subject_id", ID, nullable=False),  # the visit, worker, contract or contractor flagged
            Column("raised_position", BigInteger, nullable=False),
            Column("raised_at", DateTime(timezone=True), nullable=False),
            Column("updated_position", BigInteger, nullable=False),
            Column("detail", Text, nullable=False),
            Column("evidence", Text, nullable=False),
            ix("flags", "raised_position", "flag_id"),  # the unfiltered list, in the order raised
            ix("flags", "kind", "raised_position"),
            ix("flags", "contractor_id", "raised_position"),
        ),
        flag_visits=t(
            "flag_visits",
            Column("visit_id", ID, primary_key=True),
            Column("position", BigInteger, nullable=False),
            Column("contract_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("beneficiary_id", ID, nullable=False),
            Column("worker_id", ID, nullable=False),
            Column("service_code", String(64), nullable=False),
            Column("started_at", DateTime(timezone=True), nullable=False),
            Column("ended_at", DateTime(timezone=True), nullable=False),
            Column("day", Date, nullable=False),
            Column("evidence_hash", sized(limits.EVIDENCE_HASH)),
            Column("voided", Boolean, nullable=False),
            Column("counts", Boolean, nullable=False),
            Column("confirmed", Boolean, nullable=False),
            ix("flag_visits", "worker_id", "started_at"),
            ix("flag_visits", "beneficiary_id"),
            ix("flag_visits", "evidence_hash"),
        ),
        flag_beneficiaries=t(
            "flag_beneficiaries",
            Column("beneficiary_id", ID, primary_key=True),
            Column("deregistered_at", DateTime(timezone=True), nullable=False),
            Column("position", BigInteger, nullable=False),
        ),
        flag_lines=t(
            "flag_lines",
            Column("contract_id", ID, primary_key=True),
            Column("service_code", String(64), primary_key=True),
            Column("quantity", Integer, nullable=False),
            Column("unit_price_fen", BigInteger, nullable=False),
            Column("delivered", Integer, nullable=False, default=0),
        ),
        flag_contracts=t(
            "flag_contracts",
            Column("contract_id", ID, primary_key=True),
            Column("contractor_id", ID, nullable=False),
            Column("signed_position", BigInteger, nullable=False),
            Column("released_fen", BigInteger, nullable=False, default=0),
            Column("confirmed_fen", BigInteger, nullable=False, default=0),
        ),
        flag_worker_days=t(
            "flag_worker_days",
            Column("worker_id", ID, primary_key=True),
            Column("day", Date, primary_key=True),
            Column("visits", Integer, nullable=False, default=0),
            Column("proofs", Text, nullable=False, default="[]"),  # the day's first visits a flag names
        ),
        # A worker's longest visit bounds the search for visits overlapping a new one to those
        # that started at most that long before it: the lookup reads a window, not the history.
        flag_workers=t(
            "flag_workers",
            Column("worker_id", ID, primary_key=True),
            Column("longest_seconds", BigInteger, nullable=False),
        ),
        flag_hashes=t(
            "flag_hashes",
            Column("evidence_hash", sized(limits.EVIDENCE_HASH), primary_key=True),
            Column("carriers", Integer, nullable=False),  # visits stored with this hash, voided or not
            Column("proofs", Text, nullable=False),  # the first of them a flag names
        ),
    )


def _trace(t: Callable[..., Table], ix: Callable[..., Index]) -> dict[str, Table]:
    """The trace's tables: every figure keeps the log position of the event it came from."""
    return dict(
        trace_funds=t(
            "trace_funds",
            Column("fund_id", ID, primary_key=True),
            Column("name", sized(limits.FUND_NAME), nullable=False),
            Column("appropriated_fen", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
        ),
        trace_contracts=t(
            "trace_contracts",
            Column("contract_id", ID, primary_key=True),
            Column("contract_no", sized(limits.CONTRACT_NO), nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("fund_id", ID, nullable=False),
            Column("position", BigInteger, nullable=False),
            ix("trace_contracts", "fund_id", "position"),
        ),
        trace_lines=t(
            "trace_lines",
            Column("contract_id", ID, primary_key=True),
            Column("service_code", String(64), primary_key=True),
            Column("unit_price_fen", BigInteger, nullable=False),
        ),
        trace_milestones=t(
            "trace_milestones",
            Column("contract_id", ID, primary_key=True),
            Column("milestone_id", sized(limits.MILESTONE_ID), primary_key=True),
            Column("kind", String(32), nullable=False),
            Column("service_code", String(64)),
            Column("quantity", Integer),
            Column("basis", Text),
            Column("position", BigInteger),  # of its fulfilment
            Column("counted", Integer),  # how many visits its fulfilment named; null before it did
        ),
        # The visits a volume milestone's fulfilment counted, in the order it named them.
        trace_counted=t(
            "trace_counted",
            Column("contract_id", ID, primary_key=True),
            Column("milestone_id", sized(limits.MILESTONE_ID), primary_key=True),
            Column("ordinal", Integer, primary_key=True, autoincrement=False),
            Column("visit_id", ID, nullable=False),
            Column("position", BigInteger, nullable=False),
        ),
        trace_tranches=t(
            "trace_tranches",
            Column("contract_id", ID, primary_key=True),
            Column("tranche_id", sized(limits.TRANCHE_ID), primary_key=True),
            Column("milestone_id", sized(limits.MILESTONE_ID), nullable=False),
            Column("amount_fen", BigInteger, nullable=False),
            Column("status", String(16), nullable=False),
            Column("released_fen", BigInteger),
            Column("withheld_fen", BigInteger),
            Column("position", BigInteger),  # of its release or withholding
            Column("recorded_at", DateTime(timezone=True)),
        ),
        trace_disbursements=t(
            "trace_disbursements",
            Column("contract_id", ID, primary_key=True),
            Column("tranche_id", sized(limits.TRANCHE_ID), primary_key=True),
            Column("fund_id", ID, nullable=False),
            Column("amount_fen", BigInteger, nullable=False),
            Column("position", BigInteger, nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
            ix("trace_disbursements", "fund_id"),
        ),
        trace_beneficiaries=t(
            "trace_beneficiaries",
            Column("beneficiary_id", ID, primary_key=True),
            Column("position", BigInteger, nullable=False),
        ),
        trace_visits=t(
            "trace_visits",
            Column("visit_id", ID, primary_key=True),
            Column("contract_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("case_id", ID, nullable=False),
            Column("beneficiary_id", ID, nullable=False),
            Column("worker_id", ID, nullable=False),
            Column("service_code", String(64), nullable=False),
            Column("started_at", DateTime(timezone=True), nullable=False),
            Column("ended_at", DateTime(timezone=True), nullable=False),
            Column("position", BigInteger, nullable=False),  # of its delivery
            Column("unit_price_fen", BigInteger, nullable=False),
            Column("counts", Boolean, nullable=False),
            Column("confirmation", String(16)),
            Column("voided", Boolean, nullable=False),
            Column("spot_check", String(32)),
            ix("trace_visits", "beneficiary_id", "position"),
        ),
        # What happened to a visit after its delivery: confirmed, disputed, voided, spot-checked.
        trace_visit_events=t(
            "trace_visit_events",
            Column("visit_id", ID, primary_key=True),
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("kind", String(32), nullable=False),
            Column("channel", String(32)),
            Column("result", String(32)),
            Column("note", sized(limits.NOTE)),  # a void's or dispute's reason, a spot check's note
            Column("stopped_counting", Boolean, nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
        ),
    )


def _rollups(t: Callable[..., Table], ix: Callable[..., Index]) -> dict[str, Table]:
    """Pre-aggregated caseload figures (projections/rollups.py): a read costs what its answer holds,
    not what the log holds. The per-visit and per-case rows keep the bucket a later event must
    take its count back from."""
    return dict(
        rollup_visits=t(
            "rollup_visits",
            Column("visit_id", ID, primary_key=True),
            Column("case_id", ID, nullable=False),
            Column("contractor_id", ID, nullable=False),
            Column("worker_id", ID, nullable=False),
            Column("township", sized(limits.TOWNSHIP), nullable=False),
            Column("village", sized(limits.VILLAGE), nullable=False),
            Column("started_at", DateTime(timezone=True), nullable=False),
            Column("counts", Boolean, nullable=False),
            # A cell's last visit is found again through this when its last one stops counting.
            ix("rollup_visits", "worker_id", "started_at"),
        ),
        rollup_cases=t(
            "rollup_cases",
            Column("case_id", ID, primary_key=True),
            Column("contractor_id", ID, nullable=False),
            Column("township", sized(limits.TOWNSHIP), nullable=False),
            Column("village", sized(limits.VILLAGE), nullable=False),
            Column("self_care_level", String(32), nullable=False),
            Column("accepted", Boolean, nullable=False),  # open: counted in rollup_open_cases
        ),
        # One row per worker and village a contractor's visits went to (the finest group any
        # caseload grouping or filter asks for): visits that still count and the last of them.
        rollup_cells=t(
            "rollup_cells",
            Column("contractor_id", ID, primary_key=True),
            Column("worker_id", ID, primary_key=True),
            Column("township", sized(limits.TOWNSHIP), primary_key=True),
            Column("village", sized(limits.VILLAGE), primary_key=True),
            Column("visits", Integer, nullable=False, default=0),
            Column("last_visit_at", DateTime(timezone=True)),  # null while none counts
            ix("rollup_cells", "worker_id"),
            ix("rollup_cells", "township", "village"),
        ),
        # Open (accepted) cases per contractor, village and self-care level; a row exists from the
        # first referral, so a group with cases but none open still shows.
        rollup_open_cases=t(
            "rollup_open_cases",
            Column("contractor_id", ID, primary_key=True),
            Column("township", sized(limits.TOWNSHIP), primary_key=True),
            Column("village", sized(limits.VILLAGE), primary_key=True),
            Column("self_care_level", String(32), primary_key=True),
            Column("open", Integer, nullable=False, default=0),
            ix("rollup_open_cases", "township", "village"),
        ),
        # Visits that still count, per worker and case: a worker's figures without its visits.
        rollup_worker_cases=t(
            "rollup_worker_cases",
            Column("worker_id", ID, primary_key=True),
            Column("case_id", ID, primary_key=True),
            Column("visits", Integer, nullable=False, default=0),
            ix("rollup_worker_cases", "case_id"),  # a case that opens or ends finds its workers
        ),
        # Per worker, the open cases it has visits in that still count: a list of workers reads
        # one row each, not every case each worker ever visited.
        rollup_workers=t(
            "rollup_workers",
            Column("worker_id", ID, primary_key=True),
            Column("open_cases", Integer, nullable=False, default=0),
        ),
    )


metadata = MetaData()
LIVE = define(metadata)
