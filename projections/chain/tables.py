"""The chain's tables in the read-model database (alembic revision 0003_chain).

`chain_links` holds one hash per chained event; `chain_head` one row with the chain's position,
head hash and event count, moved by compare-and-set in the same transaction as the links."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, Table

from projections.tables import metadata

HEAD_ROW = "global"

chain_links = Table(
    "chain_links",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

chain_head = Table(
    "chain_head",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)
