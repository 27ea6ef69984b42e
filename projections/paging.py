"""Cursor pagination (keyset): stable under inserts, no offsets."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Select, tuple_


class BadCursor(ValueError):
    pass


def encode(value: Any, key: Any) -> str:
    if isinstance(value, datetime):
        packed = {"t": "dt", "v": value.isoformat()}
    elif isinstance(value, date):
        packed = {"t": "d", "v": value.isoformat()}
    else:
        packed = {"t": "raw", "v": value}
    return base64.urlsafe_b64encode(json.dumps({**packed, "k": key}).encode()).decode()


def decode(cursor: str) -> tuple[Any, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = data["v"]
        if data["t"] == "dt":
            value = datetime.fromisoformat(value)
        elif data["t"] == "d":
            value = date.fromisoformat(value)
        return value, data["k"]
    except (ValueError, KeyError, TypeError) as e:
        raise BadCursor("the cursor is not one this API gave out") from e


def _check_type(value: Any, python_type: type) -> None:
    """A cursor decodes to values of the sort and key columns' types, or it was not ours."""
    if value is None or not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
        raise BadCursor("the cursor is not one this API gave out")
    if (isinstance(value, int) and not -(2**63) <= value < 2**63) or (isinstance(value, str) and "\x00" in value):
        raise BadCursor("the cursor is not one this API gave out")


def page(conn: Connection, stmt: Select, sort: Column, key: Column, *, descending: bool, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    if cursor:
        value, k = decode(cursor)
        _check_type(value, sort.type.python_type)
        _check_type(k, key.type.python_type)
        pair = tuple_(sort, key)
        stmt = stmt.where(pair < tuple_(value, k) if descending else pair > tuple_(value, k))
    order = [sort.desc(), key.desc()] if descending else [sort.asc(), key.asc()]
    rows = [dict(r) for r in conn.execute(stmt.order_by(*order).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode(rows[-1][sort.name], rows[-1][key.name]) if more and rows else None
    return rows, next_cursor


def page_list(rows: list[dict[str, Any]], key: str, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The same contract over rows computed in Python (grouped figures), sorted by key."""
    rows = sorted(rows, key=lambda r: r[key])
    if cursor:
        _, after = decode(cursor)
        _check_type(after, str)
        rows = [r for r in rows if r[key] > after]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode(rows[-1][key], rows[-1][key]) if more and rows else None)
