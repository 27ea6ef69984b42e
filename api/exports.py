"""CSV and XLSX exports of every list, for people who work in spreadsheets.

Each export wraps its list's own endpoint: the same token, roles, filters and scoping, because the
export route takes the list's parameters (less `cursor` and `limit`) and calls the list page by
page with the cursor, so a large export never sits in memory. The first page is read before the
answer starts, so a refused token or a bad filter is the list's usual JSON error.

The columns of each list are declared once, in api/export_columns.py; CSV cells are the JSON
list's values as they are (money as yuan strings), XLSX cells are typed by the column's kind."""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

import xlsxwriter
from fastapi import APIRouter, Header, Query
from fastapi.dependencies.utils import get_typed_signature
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.export_columns import EXPORTS, Column, Export, Kind
from api.routers.reads import READ_ERRORS

Lang = Literal["zh", "en"]
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one


# --- reading the list, page by page ------------------------------------------------------------
def _dig(answer: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        answer = answer[key]
    return answer


def _pages(export: Export, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """The list's rows a page at a time; the first page is read when the iterator is made."""
    rows_per_page = params["request"].app.state.settings.export_page_rows  # every list takes `request`

    def read(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        answer = json.loads(export.endpoint(**params, cursor=cursor, limit=rows_per_page).body)
        page = _dig(answer, export.items[:-1])
        return page[export.items[-1]], page["next_cursor"]

    rows, cursor = read(None)
    params = {**params, "min_position": None}  # waited for once, by the first page

    def rest() -> Iterator[list[dict[str, Any]]]:
        nonlocal rows, cursor
        yield rows
        while cursor:
            rows, cursor = read(cursor)
            yield rows

    return rest()


def choose_language(lang: str | None, accept_language: str | None) -> Lang:
    """`lang` if given; else the preferred of zh and en in Accept-Language; else Chinese."""
    if lang in ("zh", "en"):
        return lang  # type: ignore[return-value]
    best: tuple[float, Lang] = (0.0, "zh")
    for part in (accept_language or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        primary = tag.split("-")[0].lower()
        if primary in ("zh", "en") and weight > best[0]:
            best = (weight, primary)  # type: ignore[assignment]
    return best[1]


# --- writing ------------------------------------------------------------------------------------
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: Any) -> str:
    """The JSON value as it reads: money stays a yuan string; a list or a mapping stays JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def csv_cell(value: Any, kind: Kind = "text") -> str:
    """A CSV cell: the value as text. Text a spreadsheet would run as a formula (a name typed as
    `=HYPERLINK(...)`) gets a leading apostrophe, so opening an export never runs what someone
    typed into the ledger; figures (a negative amount) are left as they are."""
    text = as_text(value)
    return "'" + text if kind == "text" and text.startswith(FORMULA_STARTS) else text


def _csv_stream(columns: tuple[Column, ...], lang: Lang, pages: Iterator[list[dict[str, Any]]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([getattr(c, lang) for c in columns])
    yield BOM + flush()
    for rows in pages:
        for row in rows:
            writer.writerow([csv_cell(row.get(c.key), c.kind) for c in columns])
        yield flush()


def _xlsx_file(export: Export, lang: Lang, pages: Iterator[list[dict[str, Any]]]) -> str:
    """Writes the workbook row by row to a temporary file (constant memory) and returns its path."""
    handle, path = tempfile.mkstemp(prefix="ledger-export-", suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
        formats = {
            "money": book.add_format({"num_format": "0.00"}),
            "percent": book.add_format({"num_format": "0.00%"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        sheet = book.add_worksheet(export.title[0 if lang == "zh" else 1][:31])
        sheet.freeze_panes(1, 0)
        bold = book.add_format({"bold": True})
        for col, column in enumerate(export.columns):
            sheet.write_string(0, col, getattr(column, lang), bold)
            sheet.set_column(col, col, 20 if column.kind in ("datetime", "text") else 14)
        row_no = 0
        for rows in pages:
            for row in rows:
                row_no += 1
                for col, column in enumerate(export.columns):
                    _xlsx_cell(sheet, row_no, col, column.kind, row.get(column.key), formats)
        book.close()
    except BaseException:
        os.unlink(path)
        raise
    return path


def _xlsx_cell(sheet: Any, row: int, col: int, kind: Kind, value: Any, formats: dict[str, Any]) -> None:
    if value is None:
        return
    if kind == "money":
        sheet.write_number(row, col, float(Decimal(value)), formats["money"])  # a float only here, at the cell
    elif kind == "percent":
        sheet.write_number(row, col, float(Decimal(value)), formats["percent"])
    elif kind == "int":
        sheet.write_number(row, col, int(value))
    elif kind == "bool":
        sheet.write_boolean(row, col, bool(value))
    elif kind == "date":
        sheet.write_datetime(row, col, date.fromisoformat(value), formats["date"])
    elif kind == "datetime":
        # Excel knows no time zones: the cell holds the time in UTC, as the JSON list gives it.
        sheet.write_datetime(row, col, datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None), formats["datetime"])
    else:
        sheet.write_string(row, col, as_text(value))  # a string cell is never run as a formula


# --- routes -------------------------------------------------------------------------------------
LangQuery = Annotated[Lang | None, Query(description="Header language: zh (default) or en; without it, Accept-Language decides")]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", max_length=200, description="e.g. en-GB,en;q=0.9")]


def _route(export: Export, fmt: Literal["csv", "xlsx"]) -> Callable[..., Any]:
    listed = get_typed_signature(export.endpoint)  # annotations resolved in the list's module
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in listed.parameters.values() if p.name not in ("cursor", "limit")]
    params += [
        inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=LangQuery),
        inspect.Parameter("accept_language", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=AcceptLanguage),
    ]
    filename = export.title[1].lower().replace(" ", "-")

    def run(**kwargs: Any) -> Any:
        lang = choose_language(kwargs.pop("lang"), kwargs.pop("accept_language"))
        pages = _pages(export, kwargs)  # errors of the first page are the list's JSON errors
        headers = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
        if fmt == "csv":
            return StreamingResponse(_csv_stream(export.columns, lang, pages), media_type=f"{CSV_TYPE}; charset=utf-8", headers=headers)
        path = _xlsx_file(export, lang, pages)
        return FileResponse(path, media_type=XLSX_TYPE, headers=headers, background=BackgroundTask(os.unlink, path))

    run.__signature__ = listed.replace(parameters=params)  # type: ignore[attr-defined]
    run.__name__ = f"{export.endpoint.__name__}_{fmt}"
    return run


def _responses(fmt: str) -> dict[int | str, dict[str, Any]]:
    media = CSV_TYPE if fmt == "csv" else XLSX_TYPE
    schema = {"type": "string"} if fmt == "csv" else {"type": "string", "format": "binary"}
    described = "UTF-8 with a BOM, one header row" if fmt == "csv" else "One sheet, bold frozen header row, money as numbers (0.00)"
    return {200: {"description": described, "content": {media: {"schema": schema}}}, **READ_ERRORS}


CONSOLE_PREFIX = "/console/exports"  # where a console session may download (api/deps.py)


def build_router() -> APIRouter:
    router = APIRouter(tags=["exports"])
    for export in EXPORTS:
        for fmt in ("csv", "xlsx"):
            router.add_api_route(
                f"{export.path}.{fmt}",
                _route(export, fmt),  # type: ignore[arg-type]
                methods=["GET"],
                responses=_responses(fmt),
                response_class=StreamingResponse if fmt == "csv" else FileResponse,
                summary=f"{export.title[1]} as {fmt.upper()} ({export.title[0]}), every page, headers in zh or en",
            )
            # The same for the console's pages: its session cookie is scoped to /console.
            router.add_api_route(
                f"{CONSOLE_PREFIX}{export.path}.{fmt}",
                _route(export, fmt),  # type: ignore[arg-type]
                methods=["GET"],
                response_class=StreamingResponse if fmt == "csv" else FileResponse,
                include_in_schema=False,
            )
    return router


router = build_router()
