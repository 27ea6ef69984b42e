"""flags: what bounds each red-flag lookup (a worker's longest visit, each evidence hash's
carriers and first proofs, each worker day's first proofs), so a visit's checks read a few rows
instead of the worker's or the hash's whole history

Revision ID: 0010_flag_bounds
Revises: 0009_rollups
Create Date: 2026-12-03

The new rows can only come from the log, so the upgrade empties the flags read model and resets
its position: the projection refills it from the first event on its next run (`GET /flags` shows
fewer flags until it has caught up; /projections/status shows how far it is).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010_flag_bounds'
down_revision = '0009_rollups'
branch_labels = None
depends_on = None

ID = sa.String(length=64)
EVIDENCE_HASH = sa.String(length=200)  # limits.EVIDENCE_HASH
FLAG_TABLES = ('flags', 'flag_visits', 'flag_beneficiaries', 'flag_lines', 'flag_contracts', 'flag_worker_days')


def upgrade() -> None:
    op.create_table(
        'flag_workers',
        sa.Column('worker_id', ID, primary_key=True),
        sa.Column('longest_seconds', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'flag_hashes',
        sa.Column('evidence_hash', EVIDENCE_HASH, primary_key=True),
        sa.Column('carriers', sa.Integer(), nullable=False),
        sa.Column('proofs', sa.Text(), nullable=False),
    )
    with op.batch_alter_table('flag_worker_days') as batch:
        batch.add_column(sa.Column('proofs', sa.Text(), nullable=False, server_default='[]'))
    for table in FLAG_TABLES:
        op.execute(sa.text(f'DELETE FROM {table}'))
    op.execute(sa.text("DELETE FROM projection_positions WHERE name = 'flags'"))


def downgrade() -> None:
    with op.batch_alter_table('flag_worker_days') as batch:
        batch.drop_column('proofs')
    op.drop_table('flag_hashes')
    op.drop_table('flag_workers')
