"""initial schema: the tables as they were before migrations existed

Revision ID: 34ee15aa1f48
Revises: (none)
Create Date: 2026-11-24 10:58:34.974672
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.tables

revision: str = '34ee15aa1f48'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('committee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('payload_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prev_hash', name='uq_audit_prev_hash'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_target_id'), ['target_id'], unique=False)

    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('table', sa.JSON(), nullable=False),
    sa.Column('loaded_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('committees',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('short_name', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('case_number_pattern', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('number_patterns', sa.JSON(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('experts',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('max_concurrent', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('relatives', sa.JSON(), nullable=False),
    sa.Column('created_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experts_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_experts_city'), ['city'], unique=False)
        batch_op.create_index(batch_op.f('ix_experts_name'), ['name'], unique=False)

    op.create_table('institution_groups',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('institution_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_groups_city'), ['city'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_client'), ['client'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_username'), ['username'], unique=False)

    op.create_table('users',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('committee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('expert_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_username'), ['username'], unique=True)

    op.create_table('api_keys',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_digest'), ['digest'], unique=True)
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('committee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('application_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('applicant_side', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('both_consented', sa.Boolean(), nullable=False),
    sa.Column('patient_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('institution_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('claim_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('requests', sa.Text(), nullable=False),
    sa.Column('registration', sa.JSON(), nullable=False),
    sa.Column('mediators', sa.JSON(), nullable=False),
    sa.Column('agreement', sa.JSON(), nullable=True),
    sa.Column('agreement_version', sa.Integer(), nullable=False),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('clock', sa.JSON(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('clock_paused', sa.Boolean(), nullable=False),
    sa.Column('deadlines', sa.JSON(), nullable=False),
    sa.Column('payment_overdue', sa.Boolean(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('registered_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('archived_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('committee_id', 'number', name='uq_case_committee_number')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_due_provisional'), ['due_provisional'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_payment_overdue'), ['payment_overdue'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_registered_at'), ['registered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)

    op.create_table('institutions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['institution_groups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institutions_city'), ['city'], unique=False)
        batch_op.create_index(batch_op.f('ix_institutions_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_institutions_name'), ['name'], unique=False)

    op.create_table('number_sequences',
    sa.Column('committee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], ),
    sa.PrimaryKeyConstraint('committee_id', 'year', 'kind')
    )
    op.create_table('conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicts_expert_id'), ['expert_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_seq', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'lang', 'source_seq', name='uq_document_source')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_case_id'), ['case_id'], unique=False)

    op.create_table('expert_affiliations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('institution_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('expert_affiliations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_affiliations_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_affiliations_institution_id'), ['institution_id'], unique=False)

    op.create_table('mediation_sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scheduled_seq', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mediators', sa.JSON(), nullable=False),
    sa.Column('attendees', sa.JSON(), nullable=False),
    sa.Column('minutes', sa.JSON(), nullable=True),
    sa.Column('minutes_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_sessions_case_id'), ['case_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('recipient_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('delivered_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_kind'), ['kind'], unique=False)

    op.create_table('panels',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('institution_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('requested_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('opinion_version', sa.Integer(), nullable=False),
    sa.Column('unfilled_slots', sa.JSON(), nullable=False),
    sa.Column('meeting', sa.JSON(), nullable=True),
    sa.Column('opinion_document_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('updated_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panels_case_id'), ['case_id'], unique=False)

    op.create_table('transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', name='uq_transition_case_seq')
    )
    with op.batch_alter_table('transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transitions_case_id'), ['case_id'], unique=False)

    op.create_table('document_contents',
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('document_id')
    )
    op.create_table('draws',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('panel_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('specialty', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('algorithm', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('exclusions', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('panel_id', 'slot', 'attempt', name='uq_draw_slot_attempt')
    )
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draws_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draws_panel_id'), ['panel_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('panel_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expert_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('draw_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('specialty', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('invited_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answer_due_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('opinion', sa.JSON(), nullable=True),
    sa.Column('opinion_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['draw_id'], ['draws.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_status'), ['status'], unique=False)

    op.create_table('objections',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('panel_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('invitation_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expert_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('form', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_at', models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('decided_at', models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], ),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_panel_id'), ['panel_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_panel_id'))
        batch_op.drop_index(batch_op.f('ix_objections_case_id'))

    op.drop_table('objections')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_status'))
        batch_op.drop_index(batch_op.f('ix_invitations_panel_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_expert_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_case_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draws_panel_id'))
        batch_op.drop_index(batch_op.f('ix_draws_case_id'))

    op.drop_table('draws')
    op.drop_table('document_contents')
    with op.batch_alter_table('transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transitions_case_id'))

    op.drop_table('transitions')
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panels_case_id'))

    op.drop_table('panels')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_kind'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_sessions_case_id'))

    op.drop_table('mediation_sessions')
    with op.batch_alter_table('expert_affiliations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_affiliations_institution_id'))
        batch_op.drop_index(batch_op.f('ix_expert_affiliations_expert_id'))

    op.drop_table('expert_affiliations')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_case_id'))

    op.drop_table('documents')
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicts_expert_id'))
        batch_op.drop_index(batch_op.f('ix_conflicts_case_id'))

    op.drop_table('conflicts')
    op.drop_table('number_sequences')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institutions_name'))
        batch_op.drop_index(batch_op.f('ix_institutions_group_id'))
        batch_op.drop_index(batch_op.f('ix_institutions_city'))

    op.drop_table('institutions')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_registered_at'))
        batch_op.drop_index(batch_op.f('ix_cases_payment_overdue'))
        batch_op.drop_index(batch_op.f('ix_cases_number'))
        batch_op.drop_index(batch_op.f('ix_cases_due_provisional'))
        batch_op.drop_index(batch_op.f('ix_cases_due_date'))
        batch_op.drop_index(batch_op.f('ix_cases_committee_id'))

    op.drop_table('cases')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_keys_digest'))

    op.drop_table('api_keys')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username'))

    op.drop_table('users')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_username'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_client'))
        batch_op.drop_index('ix_login_attempts_at')

    op.drop_table('login_attempts')
    with op.batch_alter_table('institution_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_groups_city'))

    op.drop_table('institution_groups')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experts_name'))
        batch_op.drop_index(batch_op.f('ix_experts_city'))
        batch_op.drop_index(batch_op.f('ix_experts_active'))

    op.drop_table('experts')
    op.drop_table('committees')
    op.drop_table('calendar_years')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_target_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_request_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_committee_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
