from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ledger.application import CommandResult, to_plain


def created(result: CommandResult) -> JSONResponse:
    """201 with the new ids and the position; a replay returns the first response again."""
    body = {**result.ids, "position": result.position, "replayed": result.replayed}
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(body, status_code=201, headers=headers)


def found(value: Any) -> JSONResponse:
    """Money stays exact: Decimal is written as a string, never a float."""
    return JSONResponse(to_plain(value))
