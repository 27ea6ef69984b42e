"""rollups: the caseload's counters per cell, open cases per village and level, visits per worker
and case; the indexes lists, the audit trail and the overdue count page and filter by

Revision ID: 0009_rollups
Revises: 0008_lists
Create Date: 2026-11-23

Adds tables and indexes only. On a database that already holds read models, run
`ledger projections rebuild rollups` afterwards (the new projection starts from the first event by
itself when its position row is new; a rebuild fills it while the old reads keep serving).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009_rollups'
down_revision = '0008_lists'
branch_labels = None
depends_on = None

ID = sa.String(length=64)
PLACE = sa.String(length=500)  # limits.TOWNSHIP, limits.VILLAGE

ADDED_INDEXES = {
    'audit_events': (
        ('actor_id', 'position'),
        ('event_type', 'position'),
        ('correlation_id', 'position'),
        ('organisation_id', 'position'),
        ('aggregate_type', 'position'),
    ),
    'caseload_cases': (
        ('contractor_id', 'referred_at'),
        ('contract_id', 'referred_at'),
        ('beneficiary_id', 'referred_at'),
        ('township', 'village', 'referred_at'),
        ('status', 'next_visit_due'),
    ),
    'caseload_visits': (('service_code', 'started_at'), ('township', 'village', 'started_at')),
    'fulfilment_contracts': (('signed_at', 'contract_id'), ('contract_no', 'contract_id'), ('end_date', 'contract_id')),
    'fulfilment_tranches': (('status', 'contract_id', 'tranche_id'),),
}
# Replaced by the wider indexes above, which serve the same lookups.
DROPPED_INDEXES = {'audit_events': (('actor_id',), ('event_type',))}
ROLLUP_INDEXES = {
    'rollup_visits': (('worker_id', 'started_at'),),
    'rollup_cells': (('worker_id',), ('township', 'village')),
    'rollup_open_cases': (('township', 'village'),),
}


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    op.create_table(
        'rollup_visits',
        sa.Column('visit_id', ID, primary_key=True),
        sa.Column('case_id', ID, nullable=False),
        sa.Column('contractor_id', ID, nullable=False),
        sa.Column('worker_id', ID, nullable=False),
        sa.Column('township', PLACE, nullable=False),
        sa.Column('village', PLACE, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counts', sa.Boolean(), nullable=False),
    )
    op.create_table(
        'rollup_cases',
        sa.Column('case_id', ID, primary_key=True),
        sa.Column('contractor_id', ID, nullable=False),
        sa.Column('township', PLACE, nullable=False),
        sa.Column('village', PLACE, nullable=False),
        sa.Column('self_care_level', sa.String(length=32), nullable=False),
        sa.Column('accepted', sa.Boolean(), nullable=False),
    )
    op.create_table(
        'rollup_cells',
        sa.Column('contractor_id', ID, primary_key=True),
        sa.Column('worker_id', ID, primary_key=True),
        sa.Column('township', PLACE, primary_key=True),
        sa.Column('village', PLACE, primary_key=True),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.Column('last_visit_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        'rollup_open_cases',
        sa.Column('contractor_id', ID, primary_key=True),
        sa.Column('township', PLACE, primary_key=True),
        sa.Column('village', PLACE, primary_key=True),
        sa.Column('self_care_level', sa.String(length=32), primary_key=True),
        sa.Column('open', sa.Integer(), nullable=False),
    )
    op.create_table(
        'rollup_worker_cases',
        sa.Column('worker_id', ID, primary_key=True),
        sa.Column('case_id', ID, primary_key=True),
        sa.Column('visits', sa.Integer(), nullable=False),
    )
    for table, indexes in ROLLUP_INDEXES.items():
        for columns in indexes:
            op.create_index(_name(table, columns), table, list(columns))
    for table, indexes in DROPPED_INDEXES.items():
        for columns in indexes:
            op.drop_index(_name(table, columns), table_name=table)
    for table, indexes in ADDED_INDEXES.items():
        for columns in indexes:
            op.create_index(_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, indexes in ADDED_INDEXES.items():
        for columns in indexes:
            op.drop_index(_name(table, columns), table_name=table)
    for table, indexes in DROPPED_INDEXES.items():
        for columns in indexes:
            op.create_index(_name(table, columns), table, list(columns))
    for table in ('rollup_worker_cases', 'rollup_open_cases', 'rollup_cells', 'rollup_cases', 'rollup_visits'):
        op.drop_table(table)
