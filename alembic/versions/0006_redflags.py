"""red flags: the flags and what the flags projection keeps to raise them

Revision ID: 0006_redflags
Revises: 0005_chain
Create Date: 2026-11-23

The projection fills these from the first event on its next run; nothing to rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006_redflags'
down_revision = '0005_chain'
branch_labels = None
depends_on = None

ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        'flags',
        sa.Column('flag_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('contractor_id', ID, nullable=True),
        sa.Column('contract_id', ID, nullable=True),
        sa.Column('subject_id', ID, nullable=False),
        sa.Column('raised_position', sa.BigInteger(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_position', sa.BigInteger(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('flag_id'),
    )
    op.create_index('ix_flags_kind_raised_position', 'flags', ['kind', 'raised_position'])
    op.create_index('ix_flags_contractor_id_raised_position', 'flags', ['contractor_id', 'raised_position'])
    op.create_table(
        'flag_visits',
        sa.Column('visit_id', ID, nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('contract_id', ID, nullable=False),
        sa.Column('contractor_id', ID, nullable=False),
        sa.Column('beneficiary_id', ID, nullable=False),
        sa.Column('worker_id', ID, nullable=False),
        sa.Column('service_code', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('evidence_hash', sa.String(length=200), nullable=True),
        sa.Column('voided', sa.Boolean(), nullable=False),
        sa.Column('counts', sa.Boolean(), nullable=False),
        sa.Column('confirmed', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('visit_id'),
    )
    op.create_index('ix_flag_visits_worker_id_started_at', 'flag_visits', ['worker_id', 'started_at'])
    op.create_index('ix_flag_visits_beneficiary_id', 'flag_visits', ['beneficiary_id'])
    op.create_index('ix_flag_visits_evidence_hash', 'flag_visits', ['evidence_hash'])
    op.create_table(
        'flag_beneficiaries',
        sa.Column('beneficiary_id', ID, nullable=False),
        sa.Column('deregistered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('beneficiary_id'),
    )
    op.create_table(
        'flag_lines',
        sa.Column('contract_id', ID, nullable=False),
        sa.Column('service_code', sa.String(length=64), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
        sa.Column('delivered', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('contract_id', 'service_code'),
    )
    op.create_table(
        'flag_contracts',
        sa.Column('contract_id', ID, nullable=False),
        sa.Column('contractor_id', ID, nullable=False),
        sa.Column('signed_position', sa.BigInteger(), nullable=False),
        sa.Column('released_fen', sa.BigInteger(), nullable=False),
        sa.Column('confirmed_fen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('contract_id'),
    )
    op.create_table(
        'flag_worker_days',
        sa.Column('worker_id', ID, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id', 'day'),
    )


def downgrade() -> None:
    for table in ('flag_worker_days', 'flag_contracts', 'flag_lines', 'flag_beneficiaries', 'flag_visits', 'flags'):
        op.drop_table(table)
