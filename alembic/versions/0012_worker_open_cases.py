"""rollups: each worker's open cases as one counter, so a contractor's list of workers reads a row
a worker instead of every case each worker ever visited

Revision ID: 0012_worker_open_cases
Revises: 0011_flags_order
Create Date: 2026-12-03

Fills the counters from the rollup rows already there (the same count the list made before), so
nothing needs rebuilding.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012_worker_open_cases'
down_revision = '0011_flags_order'
branch_labels = None
depends_on = None

ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        'rollup_workers',
        sa.Column('worker_id', ID, primary_key=True),
        sa.Column('open_cases', sa.Integer(), nullable=False),
    )
    op.create_index('ix_rollup_worker_cases_case_id', 'rollup_worker_cases', ['case_id'])
    op.execute(
        sa.text(
            'INSERT INTO rollup_workers (worker_id, open_cases) '
            'SELECT wc.worker_id, count(*) FROM rollup_worker_cases wc JOIN rollup_cases rc ON rc.case_id = wc.case_id '
            'WHERE wc.visits > 0 AND rc.accepted GROUP BY wc.worker_id'
        )
    )


def downgrade() -> None:
    op.drop_index('ix_rollup_worker_cases_case_id', table_name='rollup_worker_cases')
    op.drop_table('rollup_workers')
