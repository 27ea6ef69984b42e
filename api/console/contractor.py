"""The contractor's pages: its referral inbox (accept or decline), its cases, posting a visit, and
uploading a day's visits as a CSV file through the bulk path the API uses. Visits are listed for
every reader, scoped as the API scopes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.console.core import Context, after, page
from api.console.i18n import BEIJING
from api.routers.visits_bulk import COLUMNS, REQUIRED_COLUMNS, read_csv, record_items
from api.schemas.services import RecordVisit, utc
from ledger.domain.catalogue import SERVICES, Role
from ledger.domain.errors import InvalidInput
from projections import lists

router = APIRouter(include_in_schema=False)
R = Role
PAGE = 25
FORM_OFFSET = "+08:00"  # the form's times are Beijing time, as officers read a clock; stored in UTC


@router.get("/console/inbox")
@page(R.CONTRACTOR)
def inbox(ctx: Context, township: str | None = None, village: str | None = None, cursor: str | None = None, done: str | None = None):
    filters = {"status": "referred", "township": township or None, "village": village or None}
    items, next_cursor = ctx.query(lists.cases, org=ctx.org, filters=filters, descending=True, cursor=cursor, limit=PAGE)
    return ctx.render("inbox.html", items=items, next_cursor=next_cursor, actions="inbox_actions.html", notice=ctx.t(done) if done in ("accepted", "declined") else None)


@router.post("/console/cases/{case_id}/accept")
@page(R.CONTRACTOR)
def accept(ctx: Context, case_id: str, csrf: Annotated[str, Form()] = ""):
    result = ctx.ledger.accept_case(ctx.by, case_id)
    return after("/console/inbox", result.position, done="accepted")


@router.post("/console/cases/{case_id}/decline")
@page(R.CONTRACTOR)
def decline(ctx: Context, case_id: str, csrf: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = ""):
    if not reason.strip():
        raise InvalidInput("a reason is required to decline a referral")
    result = ctx.ledger.decline_case(ctx.by, case_id, reason.strip())
    return after("/console/inbox", result.position, done="declined")


@router.get("/console/cases")
@page(R.CONTRACTOR)
def cases(ctx: Context, status: str | None = None, township: str | None = None, cursor: str | None = None):
    filters = {"status": status or None, "township": township or None}
    items, next_cursor = ctx.query(lists.cases, org=ctx.org, filters=filters, descending=True, cursor=cursor, limit=PAGE)
    statuses = [(s, ctx.label("status", s)) for s in ("referred", "accepted", "declined", "withdrawn", "closed")]
    return ctx.render("cases.html", items=items, next_cursor=next_cursor, statuses=statuses, actions="case_actions.html")


def _visit_form(ctx: Context, status: int = 200, **values: object):
    cases, _ = ctx.query(lists.cases, org=ctx.org, filters={"status": "accepted"}, descending=True, cursor=None, limit=200)
    answer = ctx.query(lists.contractor_workers, contractor_id=ctx.org, org=ctx.org, enrolled=True, cursor=None, limit=200)
    workers = answer[0] if answer else []
    services = [(code, ctx.label("service", code)) for code in SERVICES]
    # A visit usually ends a little before it is posted: the times start there, in Beijing time.
    now = datetime.now(BEIJING).replace(second=0, microsecond=0)
    chosen = {"started_at": (now - timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M"), "ended_at": (now - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")}
    chosen.update(ctx.request.query_params)
    chosen.update({k: v for k, v in values.items() if isinstance(v, str)})
    return ctx.render("visit_form.html", status=status, cases=cases, workers=workers, services=services, chosen=chosen, **values)


@router.get("/console/visits/new")
@page(R.CONTRACTOR)
def visit_form(ctx: Context, done: str | None = None):
    return _visit_form(ctx, notice=ctx.t("visit_recorded") if done == "visit" else None)


@router.post("/console/visits/new")
@page(R.CONTRACTOR)
def post_visit(
    ctx: Context,
    csrf: Annotated[str, Form()] = "",
    case_id: Annotated[str, Form()] = "",
    worker_id: Annotated[str, Form()] = "",
    service_code: Annotated[str, Form()] = "",
    started_at: Annotated[str, Form()] = "",
    ended_at: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    evidence_hash: Annotated[str, Form()] = "",
):
    def moment(value: str) -> str:
        return value if not value or value.endswith("Z") or "+" in value[10:] else f"{value}{FORM_OFFSET}"

    raw = {"case_id": case_id, "worker_id": worker_id, "service_code": service_code, "started_at": moment(started_at), "ended_at": moment(ended_at)}
    raw.update({k: v.strip() for k, v in (("location", location), ("notes", notes), ("evidence_hash", evidence_hash)) if v.strip()})
    body = RecordVisit.model_validate(raw)  # the API's own checks; a ValidationError is shown as a page
    result = ctx.ledger.record_visit(
        ctx.by,
        case_id=body.case_id,
        worker_id=body.worker_id,
        service_code=body.service_code,  # type: ignore[arg-type]
        started_at=utc(body.started_at),
        ended_at=utc(body.ended_at),
        location=body.location,
        notes=body.notes,
        evidence_hash=body.evidence_hash,
    )
    ctx.request.app.state.milestones.after_command()  # delivered volume reaches the milestones
    return after("/console/visits/new", result.position, done="visit")


@router.get("/console/visits/upload")
@page(R.CONTRACTOR)
def upload_form(ctx: Context):
    return ctx.render("upload.html", columns=COLUMNS, required=REQUIRED_COLUMNS, outcome=None)


@router.post("/console/visits/upload")
@page(R.CONTRACTOR)
def upload(ctx: Context, file: Annotated[UploadFile, File()], csrf: Annotated[str, Form()] = ""):
    raw = file.file.read()
    try:
        items, rows = read_csv(raw)
    except StarletteHTTPException as e:
        raise InvalidInput(str(e.detail)) from None
    outcome = record_items(ctx.ledger, ctx.request.app.state.milestones, ctx.by, items, rows, source="console")
    return ctx.render("upload.html", columns=COLUMNS, required=REQUIRED_COLUMNS, outcome=outcome)


@router.get("/console/visits")
@page(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
def visits(
    ctx: Context,
    case_id: str | None = None,
    contract_id: str | None = None,
    contractor_id: str | None = None,
    worker_id: str | None = None,
    beneficiary_id: str | None = None,
    service_code: str | None = None,
    cursor: str | None = None,
):
    filters = {"case_id": case_id, "contract_id": contract_id, "contractor_id": contractor_id, "worker_id": worker_id, "beneficiary_id": beneficiary_id, "service_code": service_code}
    filters = {k: v or None for k, v in filters.items()}
    items, next_cursor = ctx.query(lists.visits, org=ctx.org, filters=filters, period_start=None, period_end=None, descending=True, cursor=cursor, limit=PAGE)
    services = [(code, ctx.label("service", code)) for code in SERVICES]
    return ctx.render("visits.html", items=items, next_cursor=next_cursor, services=services)
