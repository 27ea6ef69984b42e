"""What went wrong in a `ledger` command, as one line for stderr and an exit code: an operator
reads the cause, never a traceback (LEDGER_LOG_LEVEL=DEBUG adds the traceback for a developer).

Exit code 2: the command was wrong (an argument, a setting, the database URL, a refusal by the
ledger); 1: something around it failed (the store does not answer, a file cannot be opened, a bug)."""

from __future__ import annotations

import os
from typing import Any

USAGE, FAILURE = 2, 1
MAX_LENGTH = 600


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_LENGTH else line[: MAX_LENGTH - 1] + "…"


def describe(exc: BaseException) -> tuple[int, str]:
    """(exit code, message) for an exception that ended a command."""
    from pydantic import ValidationError

    from ledger.domain.errors import LedgerError

    if isinstance(exc, ValidationError):
        return USAGE, one_line("; ".join(_setting_problem(error) for error in exc.errors()))
    if isinstance(exc, LedgerError):
        return USAGE, one_line(f"{exc.code}: {exc.detail}")
    if _is_store_error(exc):
        return FAILURE, one_line(_store_problem(exc))
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return FAILURE, one_line(f"{exc.strerror or exc}{where}")
    if isinstance(exc, ValueError):  # the settings' own checks: an unsupported URL, a missing production key
        return USAGE, one_line(str(exc))
    return FAILURE, one_line(f"unexpected {type(exc).__name__}: {exc} (LEDGER_LOG_LEVEL=DEBUG shows where)")


def wants_traceback() -> bool:
    return os.environ.get("LEDGER_LOG_LEVEL", "").upper() == "DEBUG"


def _setting_problem(error: Any) -> str:
    field = ".".join(str(part) for part in error.get("loc", ()))
    given = error.get("input")
    shown = f"={given!r}" if isinstance(given, (str, int, float)) and field != "id_hash_key" else ""
    return f"invalid setting LEDGER_{field.upper()}{shown}: {error.get('msg', 'invalid')}"


def _is_store_error(exc: BaseException) -> bool:
    """An error of the event store library, SQLAlchemy or a database driver, anywhere in the chain."""
    seen = 0
    while exc is not None and seen < 10:
        module = type(exc).__module__ or ""
        if module.split(".")[0] in ("eventsourcing", "sqlalchemy", "psycopg", "psycopg_pool", "sqlite3"):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return False


def _database_url() -> str:
    from ledger.settings import Settings

    try:
        return Settings().database_url  # the environment and .env, as the command read them
    except Exception:
        return os.environ.get("LEDGER_DATABASE_URL", "sqlite:///./ledger.db")


def _store_problem(exc: BaseException) -> str:
    from stores.probe import postgres_unreachable_reason, redacted

    url = _database_url()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    reason = postgres_unreachable_reason(url)
    because = f" ({reason})" if reason and reason not in first else ""
    return f"the store at {redacted(url)} did not answer: {first}{because}"
