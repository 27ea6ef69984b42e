"""caseload: a case's visits indexed with whether they count, so the caseload by contractor,
township or village counts each case's visits of a period from the index alone

Revision ID: 0013_case_visit_counts
Revises: 0012_worker_open_cases
Create Date: 2026-12-06

Replaces the (case_id, started_at) index, whose lookups the wider one serves. Nothing to rebuild.
"""

from __future__ import annotations

from alembic import op


revision = '0013_case_visit_counts'
down_revision = '0012_worker_open_cases'
branch_labels = None
depends_on = None

OLD = ('case_id', 'started_at')
NEW = ('case_id', 'started_at', 'counts')


def _name(columns: tuple[str, ...]) -> str:
    return f"ix_caseload_visits_{'_'.join(columns)}"


def upgrade() -> None:
    op.create_index(_name(NEW), 'caseload_visits', list(NEW))
    op.drop_index(_name(OLD), table_name='caseload_visits')


def downgrade() -> None:
    op.create_index(_name(OLD), 'caseload_visits', list(OLD))
    op.drop_index(_name(NEW), table_name='caseload_visits')
