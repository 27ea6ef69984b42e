"""A read-model column too narrow for a value the ledger accepted, and the migration that fixes
it: PostgreSQL truncation for real, or on SQLite (which does not enforce lengths) a trigger that
refuses the same values."""

from __future__ import annotations

from sqlalchemy import Engine, text


def narrow_column(engine: Engine, table: str, column: str, width: int) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({width})"))
        else:
            conn.execute(text(f"CREATE TRIGGER narrow_{table}_{column} BEFORE INSERT ON {table} WHEN length(NEW.{column}) > {width} BEGIN SELECT RAISE(ABORT, 'value too long for {column}'); END"))


def widen_column(engine: Engine, table: str, column: str, width: int) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({width})"))
        else:
            conn.execute(text(f"DROP TRIGGER narrow_{table}_{column}"))
