"""Follow-ups named by a random reference (follow_ups.reference) on pages, in mails and in webhooks,
instead of their id: ids count up across the business as follow-ups open, so two of a team's own
follow-up numbers told its leader how many low answers the other teams had between them. Follow-ups
stored before get a reference each; links to them by id in mails sent before stop working.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

# As perception.core.models.followups.new_followup_reference (a migration keeps its own copy).
LETTERS = "abcdefghjkmnpqrstuvwxyz"
ALPHABET = LETTERS + "23456789"
LENGTH = 12


def _reference():
    return secrets.choice(LETTERS) + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))


def upgrade():
    op.add_column('follow_ups', sa.Column('reference', sa.String(length=LENGTH), nullable=True))
    follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer), sa.column('reference', sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(follow_ups.c.id)).scalars().all()
    references = set()
    while len(references) < len(ids):
        references.add(_reference())
    if ids:
        connection.execute(follow_ups.update().where(follow_ups.c.id == sa.bindparam('row_id'))
                           .values(reference=sa.bindparam('new_reference')),
                           [{'row_id': row_id, 'new_reference': reference}
                            for row_id, reference in zip(ids, references, strict=True)])
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=LENGTH), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_follow_ups_reference'), ['reference'])


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_follow_ups_reference'), type_='unique')
        batch_op.drop_column('reference')
