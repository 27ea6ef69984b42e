"""the hash chain over the global log: its links and its head

Revision ID: 0005_chain
Revises: 0004_stalls
Create Date: 2026-11-23

The chain keeper fills these from the first event on its next start; nothing to rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005_chain'
down_revision = '0004_stalls'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chain_links',
        sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('position'),
    )
    op.create_table(
        'chain_head',
        sa.Column('name', sa.String(length=16), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('events', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('chain_head')
    op.drop_table('chain_links')
