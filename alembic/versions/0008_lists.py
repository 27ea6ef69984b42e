"""lists people need: visits by case, contract, beneficiary and period; cases by status; workers;
the contract of every audit entry

Revision ID: 0008_lists
Revises: 0007_trace
Create Date: 2026-11-23

Only adds nullable columns and indexes. On a database that already holds read models, run
`ledger projections rebuild caseload` and `ledger projections rebuild audit` afterwards, so rows
written earlier get their confirmation, void, spot check, delivery position, worker details and
contract too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008_lists'
down_revision = '0007_trace'
branch_labels = None
depends_on = None

COLUMNS = {
    'caseload_visits': (
        sa.Column('confirmation', sa.String(length=16), nullable=True),
        sa.Column('voided', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('spot_check', sa.String(length=32), nullable=True),
        sa.Column('delivered_position', sa.BigInteger(), nullable=True),
    ),
    'caseload_workers': (
        sa.Column('qualification', sa.String(length=200), nullable=True),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    ),
    'audit_events': (sa.Column('contract_id', sa.String(length=64), nullable=True),),
    'audit_owners': (sa.Column('contract_id', sa.String(length=64), nullable=True),),
}
ADDED_INDEXES = {
    'caseload_visits': (('case_id', 'started_at'), ('contract_id', 'started_at'), ('beneficiary_id', 'started_at'), ('started_at',)),
    'caseload_cases': (('contractor_id', 'status', 'referred_at'), ('status', 'referred_at')),
    'audit_events': (('contract_id', 'position'),),
}
# Replaced by the wider indexes above, which serve the same lookups.
DROPPED_INDEXES = {'caseload_visits': (('case_id',),), 'caseload_cases': (('contractor_id', 'status'),)}


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(column)
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
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column.name)
