"""the trace: every figure with the log position it came from

Revision ID: 0007_trace
Revises: 0006_redflags
Create Date: 2026-11-23

The trace projection fills these from the first event on its first run. Milestones fulfilled
before the fulfilment named its visits show no counted visits (their `counted` stays null).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007_trace'
down_revision = '0006_redflags'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trace_beneficiaries',
    sa.Column('beneficiary_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('beneficiary_id')
    )
    op.create_table('trace_contracts',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contract_no', sa.String(length=500), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id')
    )
    with op.batch_alter_table('trace_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_trace_contracts_fund_id_position', ['fund_id', 'position'], unique=False)

    op.create_table('trace_counted',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('ordinal', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id', 'milestone_id', 'ordinal')
    )
    op.create_table('trace_disbursements',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('tranche_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('contract_id', 'tranche_id')
    )
    with op.batch_alter_table('trace_disbursements', schema=None) as batch_op:
        batch_op.create_index('ix_trace_disbursements_fund_id', ['fund_id'], unique=False)

    op.create_table('trace_funds',
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('appropriated_fen', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('fund_id')
    )
    op.create_table('trace_lines',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id', 'service_code')
    )
    op.create_table('trace_milestones',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('counted', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('contract_id', 'milestone_id')
    )
    op.create_table('trace_tranches',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('tranche_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('released_fen', sa.BigInteger(), nullable=True),
    sa.Column('withheld_fen', sa.BigInteger(), nullable=True),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('contract_id', 'tranche_id')
    )
    op.create_table('trace_visit_events',
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('stopped_counting', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('visit_id', 'position')
    )
    op.create_table('trace_visits',
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=64), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('counts', sa.Boolean(), nullable=False),
    sa.Column('confirmation', sa.String(length=16), nullable=True),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('spot_check', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('visit_id')
    )
    with op.batch_alter_table('trace_visits', schema=None) as batch_op:
        batch_op.create_index('ix_trace_visits_beneficiary_id_position', ['beneficiary_id', 'position'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trace_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_trace_visits_beneficiary_id_position')

    op.drop_table('trace_visits')
    op.drop_table('trace_visit_events')
    op.drop_table('trace_tranches')
    op.drop_table('trace_milestones')
    op.drop_table('trace_lines')
    op.drop_table('trace_funds')
    with op.batch_alter_table('trace_disbursements', schema=None) as batch_op:
        batch_op.drop_index('ix_trace_disbursements_fund_id')

    op.drop_table('trace_disbursements')
    op.drop_table('trace_counted')
    with op.batch_alter_table('trace_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_trace_contracts_fund_id_position')

    op.drop_table('trace_contracts')
    op.drop_table('trace_beneficiaries')
