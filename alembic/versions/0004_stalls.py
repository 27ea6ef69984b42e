"""projections remember where they stalled

Revision ID: 0004_stalls
Revises: 0003_limits
Create Date: 2026-11-23

A projection that cannot apply an event records the event, the error and its retries on its
position row, so every process (API or `ledger projections run` worker) sees the stall.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004_stalls'
down_revision = '0003_limits'
branch_labels = None
depends_on = None

COLUMNS = (
    ('stalled_position', sa.BigInteger()),
    ('stalled_event_type', sa.String(length=200)),
    ('stalled_aggregate_id', sa.String(length=200)),
    ('stalled_error', sa.String(length=200)),
    ('stalled_message', sa.String(length=1000)),
    ('stalled_since', sa.DateTime(timezone=True)),
    ('retry_at', sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table('projection_positions', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('projection_positions', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
