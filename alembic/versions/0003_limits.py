"""read-model columns hold every text the domain's limits accept

Revision ID: 0003_limits
Revises: 0002
Create Date: 2026-11-23

Names, contract numbers and townships were accepted up to 500 characters but stored in 200, so on
PostgreSQL a longer one stopped the projections. Widening only, so existing rows always fit; a
projection stalled on such a text goes on once this has run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003_limits'
down_revision = '0002'
branch_labels = None
depends_on = None

# Columns widened from String(200) to String(500); all are NOT NULL.
WIDENED = {
    'caseload_cases': ('township', 'village'),
    'caseload_visits': ('township', 'village'),
    'caseload_workers': ('name',),
    'caseload_contractors': ('name',),
    'fulfilment_contracts': ('contract_no',),
    'fund_visits': ('township',),
    'fund_breakdown': ('key',),
}


def _alter(old: int, new: int) -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new), existing_nullable=False)


def upgrade() -> None:
    _alter(200, 500)


def downgrade() -> None:
    _alter(500, 200)
