"""Beneficiary roster import (花名册导入): a CSV file of beneficiaries, each row registered by the
same command as POST /beneficiaries and answered alone; a bad row never sinks its neighbours.

Each row carries its own idempotency: its key is the keyed hash of its ID number (never the
number), its fingerprint the row's values, so uploading the same file again registers nobody twice
(its rows answer already_registered), and neither does a row for a person registered otherwise.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import CurrentActor, LedgerDep
from api.schemas.common import ERRORS
from api.schemas.parties import RegisterBeneficiary
from api.schemas.roster import COLUMNS, ENUM_CELLS, HEADERS, RosterResult, header_help, normalise
from ledger.application import Ledger
from ledger.application import Request as IdempotentRequest
from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.beneficiaries import Beneficiary, national_id_hash
from ledger.domain.catalogue import Role
from ledger.domain.errors import BeneficiaryAlreadyRegistered, IdempotencyKeyReused, InvalidInput, LedgerError

log = structlog.get_logger("ledger.api")
router = APIRouter(responses=ERRORS)
MAX_ROWS = limits.ROSTER_ROWS.max_items


class InvalidRoster(InvalidInput):
    """The file cannot be read as a roster: its encoding, its header row, or no rows at all."""


DESCRIPTION = f"""
Registers the beneficiaries of a roster file, each row as POST /beneficiaries would, and answers each row
alone: `registered`, `already_registered` (this file, or this person, was registered before: nobody is
registered twice, so uploading a file again is safe) or `refused` with the code and reason POST /beneficiaries
would give (never the ID number itself).

Send the file as `multipart/form-data` (field `file`) or as the body with `Content-Type: text/csv`.
UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"); a header row naming each column once, in
Chinese or English or by field name: {header_help()}. Category and self-care cells may be the code or its
Chinese or English label (低保 is `最低生活保障对象` or `dibao`). Columns the roster does not know are ignored
and listed. 1 to {MAX_ROWS} rows; a larger file is refused 413, as is a body over the request size limit.
"""

BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


async def roster_file(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "text/csv":
        return await request.body()
    if media_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception:  # the multipart parser's own errors: a broken upload, not ours
            raise HTTPException(400, "the multipart body cannot be read") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRoster("send the roster as the form's `file` field")
        return await upload.read()
    raise HTTPException(415, "send the roster as multipart/form-data (field `file`) or as Content-Type: text/csv")


@router.post(
    "/beneficiaries/import",
    tags=["beneficiaries"],
    summary="Import a roster of beneficiaries from a CSV file, each row answered alone",
    description=DESCRIPTION,
    response_model=RosterResult,
    openapi_extra=BODY,
    responses={413: {"description": f"The body is over the size limit, or the file has more than {MAX_ROWS} rows"}, 415: {"description": "Neither multipart/form-data nor text/csv"}},
)
def import_roster(raw: Annotated[bytes, Depends(roster_file)], by: CurrentActor, ledger: LedgerDep) -> JSONResponse:
    by.require(Role.PURCHASER)
    rows, ignored = read_roster(raw)
    results = [{"row": n, **_register(ledger, by, cells)} for n, cells in rows]
    counts = Counter(r["status"] for r in results)
    refusals = Counter(r["error"] for r in results if r["status"] == "refused")
    log.info("roster_import", rows=len(results), registered=counts["registered"], already_registered=counts["already_registered"], refused=counts["refused"], refusals=dict(refusals))
    position = max((r["position"] for r in results if r.get("position")), default=None) or ledger.head()
    body = {
        "results": results,
        "registered": counts["registered"],
        "already_registered": counts["already_registered"],
        "refused": counts["refused"],
        "ignored_columns": ignored,
        "position": position,
    }
    return JSONResponse(body)


def read_roster(raw: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows as (row number, {field: cell}) and the headers ignored. Whole-file faults raise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRoster('the file is not UTF-8: save it as "CSV UTF-8" (GBK and other encodings are not read)') from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidRoster(f"the file is empty: a header row comes first, naming {header_help()}") from None
    except csv.Error:
        raise InvalidRoster("the header row cannot be read") from None
    fields: list[str | None] = [HEADERS[normalise(h)].field if normalise(h) in HEADERS else None for h in header]
    ignored = [h.strip() for h, f in zip(header, fields, strict=True) if f is None and h.strip()]
    named = [f for f in fields if f is not None]
    missing = [c for c in COLUMNS if c.field not in named]
    repeated = sorted({f for f in named if named.count(f) > 1})
    if missing or repeated:
        raise InvalidRoster(
            f"the header row must name each roster column once: {header_help()}; missing: {', '.join(f'{c.zh} / {c.en}' for c in missing) or '-'}; named twice: {', '.join(repeated) or '-'}"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            rows.append((number, {"__malformed__": f"the row cannot be read: {e}"}))
            continue
        if not cells or all(not c.strip() for c in cells):
            continue  # a blank line is nobody
        if len(cells) != len(header):
            rows.append((number, {"__malformed__": f"the row has {len(cells)} cells; the header names {len(header)}"}))
        else:
            rows.append((number, {f: cell.strip() for f, cell in zip(fields, cells, strict=True) if f is not None}))
        if len(rows) > MAX_ROWS:
            raise HTTPException(413, f"a roster import holds at most {MAX_ROWS} rows: split the file")
    if not rows:
        raise InvalidRoster("the file has a header but no rows")
    return rows, ignored


def _register(ledger: Ledger, by: Actor, cells: dict[str, str]) -> dict[str, Any]:
    if "__malformed__" in cells:
        return {"status": "refused", "error": "MalformedRow", "detail": cells["__malformed__"]}
    values = {f: ENUM_CELLS[f].get(normalise(v), v) if f in ENUM_CELLS else v for f, v in cells.items()}
    try:
        body = RegisterBeneficiary.model_validate(values)
    except ValidationError as e:
        problems = [{"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"]} for p in e.errors(include_url=False, include_input=False)]
        return {"status": "refused", "error": "ValidationError", "detail": problems}
    try:
        digest = national_id_hash(body.national_id, ledger.id_hash_key)  # refuses a bad number or check digit
        fingerprint = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        done = ledger.register_beneficiary(
            by,
            body.national_id,
            body.name,
            body.household_id,
            body.category,
            body.township,
            body.village,
            body.self_care_level,  # type: ignore[arg-type]
            request=IdempotentRequest(key=f"roster:{digest}", fingerprint=fingerprint),
        )
    except (BeneficiaryAlreadyRegistered, IdempotencyKeyReused) as e:
        beneficiary_id = str(Beneficiary.create_id(national_id_hash=digest))
        how = "registered before (the register keeps the first registration; change it with the beneficiary's own commands)"
        return {"status": "already_registered", "beneficiary_id": beneficiary_id, "detail": how if isinstance(e, IdempotencyKeyReused) else e.detail}
    except LedgerError as e:
        return {"status": "refused", "error": e.code, "detail": e.detail}
    if done.replayed:
        return {"status": "already_registered", "beneficiary_id": str(done.ids["beneficiary_id"]), "detail": "imported before from the same row"}
    return {"status": "registered", "beneficiary_id": str(done.ids["beneficiary_id"]), "position": done.position}
