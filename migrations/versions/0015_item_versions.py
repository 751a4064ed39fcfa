"""The item bank grows (issue #15): item versions with their translations, retired items, and the
version a wave asks.

- item_versions: every wording of an item (customer, staff, leader) and the customer wording's
  translations ({"de": "..."}); the existing items become their version 1.
- items.version (the current version, which new waves ask) and items.retired_at.
- survey_items.item_version: the version a wave asks once it is frozen (NULL: the current one).
  Rewording freezes the waves that are open, closed or answered first (perception/surveys/
  bank_service.py), so the waves that exist need nothing here.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:50:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'item_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('customer_text', sa.Text(), nullable=False),
        sa.Column('staff_text', sa.Text(), nullable=False),
        sa.Column('leader_text', sa.Text(), nullable=False),
        sa.Column('customer_translations', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_versions_item_id_items'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_versions')),
        sa.UniqueConstraint('item_id', 'number', name=op.f('uq_item_versions_item_id')),
    )
    connection = op.get_bind()
    items = connection.execute(sa.text("SELECT id, customer_text, staff_text, leader_text FROM items")).all()
    versions = sa.table(
        'item_versions', sa.column('item_id', sa.Integer), sa.column('number', sa.Integer),
        sa.column('customer_text', sa.Text), sa.column('staff_text', sa.Text), sa.column('leader_text', sa.Text),
        sa.column('customer_translations', sa.JSON), sa.column('created_at', sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if items:
        op.bulk_insert(versions, [
            {'item_id': item_id, 'number': 1, 'customer_text': customer, 'staff_text': staff, 'leader_text': leader,
             'customer_translations': {}, 'created_at': now}
            for item_id, customer, staff, leader in items
        ])
    with op.batch_alter_table('survey_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_version', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_survey_items_item_id_item_versions'), 'item_versions',
                                    ['item_id', 'item_version'], ['item_id', 'number'])


def downgrade():
    with op.batch_alter_table('survey_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_survey_items_item_id_item_versions'), type_='foreignkey')
        batch_op.drop_column('item_version')
    op.drop_table('item_versions')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
        batch_op.drop_column('version')
