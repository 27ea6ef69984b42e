"""read models: caseload, fulfilment, fund usage, audit trail

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('organisation_id', sa.String(length=200), nullable=True),
    sa.Column('correlation_id', sa.String(length=200), nullable=True),
    sa.Column('aggregate_id', sa.String(length=64), nullable=False),
    sa.Column('aggregate_type', sa.String(length=64), nullable=False),
    sa.Column('aggregate_version', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('owner_organisation', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('position')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_aggregate_id', ['aggregate_id'], unique=False)
        batch_op.create_index('ix_audit_events_event_type', ['event_type'], unique=False)
        batch_op.create_index('ix_audit_events_owner_organisation_position', ['owner_organisation', 'position'], unique=False)
        batch_op.create_index('ix_audit_events_recorded_at', ['recorded_at'], unique=False)

    op.create_table('audit_owners',
    sa.Column('aggregate_id', sa.String(length=64), nullable=False),
    sa.Column('aggregate_type', sa.String(length=64), nullable=False),
    sa.Column('owner_organisation', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('aggregate_id')
    )
    op.create_table('caseload_cases',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('township', sa.String(length=200), nullable=False),
    sa.Column('village', sa.String(length=200), nullable=False),
    sa.Column('self_care_level', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('services', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('visit_interval_days', sa.Integer(), nullable=False),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_visit_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_visit_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visit_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('caseload_cases', schema=None) as batch_op:
        batch_op.create_index('ix_caseload_cases_contractor_id_status', ['contractor_id', 'status'], unique=False)
        batch_op.create_index('ix_caseload_cases_township_village', ['township', 'village'], unique=False)

    op.create_table('caseload_contractors',
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contractor_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('contractor_id')
    )
    op.create_table('caseload_visits',
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.String(length=64), nullable=False),
    sa.Column('township', sa.String(length=200), nullable=False),
    sa.Column('village', sa.String(length=200), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('counts', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('visit_id')
    )
    with op.batch_alter_table('caseload_visits', schema=None) as batch_op:
        batch_op.create_index('ix_caseload_visits_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_caseload_visits_contractor_id_started_at', ['contractor_id', 'started_at'], unique=False)
        batch_op.create_index('ix_caseload_visits_worker_id_started_at', ['worker_id', 'started_at'], unique=False)

    op.create_table('caseload_workers',
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enrolled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id')
    )
    with op.batch_alter_table('caseload_workers', schema=None) as batch_op:
        batch_op.create_index('ix_caseload_workers_contractor_id', ['contractor_id'], unique=False)

    op.create_table('fulfilment_contracts',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contract_no', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_fen', sa.BigInteger(), nullable=False),
    sa.Column('released_fen', sa.BigInteger(), nullable=False),
    sa.Column('withheld_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id')
    )
    with op.batch_alter_table('fulfilment_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_fulfilment_contracts_contractor_id', ['contractor_id'], unique=False)
        batch_op.create_index('ix_fulfilment_contracts_fund_id', ['fund_id'], unique=False)

    op.create_table('fulfilment_evaluations',
    sa.Column('evaluation_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('contractor_id', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.String(length=16), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('appeal', sa.String(length=16), nullable=True),
    sa.Column('scores', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('evaluation_id')
    )
    with op.batch_alter_table('fulfilment_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_fulfilment_evaluations_contract_id', ['contract_id'], unique=False)

    op.create_table('fulfilment_lines',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('posted', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('disputed', sa.Integer(), nullable=False),
    sa.Column('voided', sa.Integer(), nullable=False),
    sa.Column('failed_checks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id', 'service_code')
    )
    op.create_table('fulfilment_milestones',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('contract_id', 'milestone_id')
    )
    op.create_table('fulfilment_tranches',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('tranche_id', sa.String(length=64), nullable=False),
    sa.Column('milestone_id', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reduced_fen', sa.BigInteger(), nullable=False),
    sa.Column('released_fen', sa.BigInteger(), nullable=False),
    sa.Column('withheld_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('contract_id', 'tranche_id')
    )
    op.create_table('fulfilment_visits',
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('confirmation', sa.String(length=16), nullable=True),
    sa.Column('counts', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('visit_id')
    )
    op.create_table('fund_beneficiaries',
    sa.Column('beneficiary_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('beneficiary_id')
    )
    op.create_table('fund_breakdown',
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('contracted_fen', sa.BigInteger(), nullable=False),
    sa.Column('delivered_fen', sa.BigInteger(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('fund_id', 'dimension', 'key')
    )
    op.create_table('fund_contracts',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('contract_id')
    )
    op.create_table('fund_funds',
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('appropriated_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_fen', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_fen', sa.BigInteger(), nullable=False),
    sa.Column('appropriated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('fund_id')
    )
    op.create_table('fund_lines',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contract_id', 'service_code')
    )
    op.create_table('fund_visits',
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('township', sa.String(length=200), nullable=False),
    sa.Column('service_class', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('value_fen', sa.BigInteger(), nullable=False),
    sa.Column('counts', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('visit_id')
    )
    op.create_table('projection_positions',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('projection_positions')
    op.drop_table('fund_visits')
    op.drop_table('fund_lines')
    op.drop_table('fund_funds')
    op.drop_table('fund_contracts')
    op.drop_table('fund_breakdown')
    op.drop_table('fund_beneficiaries')
    op.drop_table('fulfilment_visits')
    op.drop_table('fulfilment_tranches')
    op.drop_table('fulfilment_milestones')
    op.drop_table('fulfilment_lines')
    with op.batch_alter_table('fulfilment_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfilment_evaluations_contract_id')

    op.drop_table('fulfilment_evaluations')
    with op.batch_alter_table('fulfilment_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfilment_contracts_fund_id')
        batch_op.drop_index('ix_fulfilment_contracts_contractor_id')

    op.drop_table('fulfilment_contracts')
    with op.batch_alter_table('caseload_workers', schema=None) as batch_op:
        batch_op.drop_index('ix_caseload_workers_contractor_id')

    op.drop_table('caseload_workers')
    with op.batch_alter_table('caseload_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_caseload_visits_worker_id_started_at')
        batch_op.drop_index('ix_caseload_visits_contractor_id_started_at')
        batch_op.drop_index('ix_caseload_visits_case_id')

    op.drop_table('caseload_visits')
    op.drop_table('caseload_contractors')
    with op.batch_alter_table('caseload_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_caseload_cases_township_village')
        batch_op.drop_index('ix_caseload_cases_contractor_id_status')

    op.drop_table('caseload_cases')
    op.drop_table('audit_owners')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_recorded_at')
        batch_op.drop_index('ix_audit_events_owner_organisation_position')
        batch_op.drop_index('ix_audit_events_event_type')
        batch_op.drop_index('ix_audit_events_aggregate_id')
        batch_op.drop_index('ix_audit_events_actor_id')

    op.drop_table('audit_events')
