"""flags: an index for the list of all flags in the order raised, which sorted the whole table

Revision ID: 0011_flags_order
Revises: 0010_flag_bounds
Create Date: 2026-12-03

Adds an index only.
"""

from __future__ import annotations

from alembic import op


revision = '0011_flags_order'
down_revision = '0010_flag_bounds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_flags_raised_position_flag_id', 'flags', ['raised_position', 'flag_id'])


def downgrade() -> None:
    op.drop_index('ix_flags_raised_position_flag_id', table_name='flags')
