"""milestones remember the evaluation that fulfilled them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

On a database that already holds read models, run `ledger projections rebuild fulfilment`
afterwards so milestones fulfilled earlier get their evaluation too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fulfilment_milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evaluation_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fulfilment_milestones', schema=None) as batch_op:
        batch_op.drop_column('evaluation_id')
