"""Citizen reports: category catalogue, departments, routing/SLA/extension columns, hotline calls.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:47:36.239073
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_departments'))
    )
    op.create_table('report_categories',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('description_vi', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('group_name', sa.String(length=32), nullable=False),
    sa.Column('keywords', sa.Text(), server_default='', nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=True),
    sa.Column('sla_hours', sa.Integer(), nullable=False),
    sa.Column('duplicate_radius_m', sa.Integer(), nullable=False),
    sa.Column('duplicate_window_days', sa.Integer(), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), server_default='0', nullable=False),
    sa.CheckConstraint("(level = 'city') = (department IS NOT NULL)", name=op.f('ck_report_categories_department_by_level')),
    sa.CheckConstraint("level IN ('ward', 'city')", name=op.f('ck_report_categories_level_vocabulary')),
    sa.CheckConstraint('duplicate_radius_m > 0 AND duplicate_window_days > 0', name=op.f('ck_report_categories_duplicate_window_positive')),
    sa.CheckConstraint('sla_hours > 0', name=op.f('ck_report_categories_sla_positive')),
    sa.ForeignKeyConstraint(['department'], ['departments.code'], name=op.f('fk_report_categories_department')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_report_categories'))
    )
    op.create_table('hotline_calls',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('operator', sa.Text(), nullable=False),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('report_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_hotline_calls_direction_vocabulary')),
    sa.CheckConstraint('duration_s >= 0', name=op.f('ck_hotline_calls_duration_positive')),
    sa.ForeignKeyConstraint(['report_id'], ['citizen_reports.id'], name=op.f('fk_hotline_calls_report_id'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_calls'))
    )
    op.create_index(op.f('ix_hotline_calls_report_id'), 'hotline_calls', ['report_id'], unique=False)
    op.create_index(op.f('ix_hotline_calls_started_at'), 'hotline_calls', ['started_at'], unique=False)
    op.add_column('citizen_reports', sa.Column('responsible_level', sa.String(length=8), server_default='ward', nullable=False))
    op.add_column('citizen_reports', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('citizen_reports', sa.Column('extension_status', sa.String(length=10), nullable=True))
    op.add_column('citizen_reports', sa.Column('extension_hours', sa.Integer(), nullable=True))
    op.add_column('citizen_reports', sa.Column('extension_reason', sa.Text(), nullable=True))
    op.add_column('citizen_reports', sa.Column('rating_comment', sa.Text(), nullable=True))
    op.add_column('citizen_reports', sa.Column('reopened_count', sa.SmallInteger(), server_default='0', nullable=False))
    op.add_column('citizen_reports', sa.Column('duplicate_of', sa.BigInteger(), nullable=True))
    op.add_column('citizen_reports', sa.Column('photos', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('citizen_reports', sa.Column('idempotency_key', sa.String(length=128), nullable=True))
    op.create_unique_constraint(op.f('uq_citizen_reports_idempotency_key'), 'citizen_reports', ['idempotency_key'])
    op.create_foreign_key(op.f('fk_citizen_reports_department'), 'citizen_reports', 'departments', ['department'], ['code'])
    op.create_foreign_key(op.f('fk_citizen_reports_category'), 'citizen_reports', 'report_categories', ['category'], ['code'])
    op.create_foreign_key(op.f('fk_citizen_reports_duplicate_of'), 'citizen_reports', 'citizen_reports', ['duplicate_of'], ['id'])
    checks = {
        "responsible_level_vocabulary": "responsible_level IN ('ward', 'city')",
        "extension_status_vocabulary": "extension_status IN ('requested', 'approved', 'rejected')",
        "reopened_once": "reopened_count BETWEEN 0 AND 1",
        "extension_positive": "extension_hours IS NULL OR extension_hours > 0",
        "department_by_level": "(responsible_level = 'city') = (department IS NOT NULL)",
    }
    for name, condition in checks.items():
        op.create_check_constraint(op.f(f"ck_citizen_reports_{name}"), "citizen_reports", condition)
    op.add_column('report_events', sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False))


def downgrade() -> None:
    op.drop_column('report_events', 'details')
    for name in ("responsible_level_vocabulary", "extension_status_vocabulary", "reopened_once", "extension_positive",
                 "department_by_level"):
        op.drop_constraint(op.f(f"ck_citizen_reports_{name}"), "citizen_reports", type_="check")
    op.drop_constraint(op.f('fk_citizen_reports_duplicate_of'), 'citizen_reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_citizen_reports_category'), 'citizen_reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_citizen_reports_department'), 'citizen_reports', type_='foreignkey')
    op.drop_constraint(op.f('uq_citizen_reports_idempotency_key'), 'citizen_reports', type_='unique')
    op.drop_column('citizen_reports', 'idempotency_key')
    op.drop_column('citizen_reports', 'photos')
    op.drop_column('citizen_reports', 'duplicate_of')
    op.drop_column('citizen_reports', 'reopened_count')
    op.drop_column('citizen_reports', 'rating_comment')
    op.drop_column('citizen_reports', 'extension_reason')
    op.drop_column('citizen_reports', 'extension_hours')
    op.drop_column('citizen_reports', 'extension_status')
    op.drop_column('citizen_reports', 'escalated_at')
    op.drop_column('citizen_reports', 'responsible_level')
    op.drop_index(op.f('ix_hotline_calls_started_at'), table_name='hotline_calls')
    op.drop_index(op.f('ix_hotline_calls_report_id'), table_name='hotline_calls')
    op.drop_table('hotline_calls')
    op.drop_table('report_categories')
    op.drop_table('departments')
