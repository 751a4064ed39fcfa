"""Webhook signing keys derived under SECRET_KEY: a new endpoint stores a random nonce
(`secret_nonce`) instead of its key, so a copy of the database or of a backup cannot sign a request
its receivers would accept. Endpoints added before keep their stored key (`secret`): it cannot be
turned into a derived one without changing it under their receivers; removing and adding such an
endpoint again moves it. A CHECK keeps exactly one of the two set.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_nonce', sa.String(length=40), nullable=True))
        batch_op.alter_column('secret', existing_type=sa.String(length=100), nullable=True)
        batch_op.create_check_constraint(op.f('ck_webhook_endpoints_one_signing_key'), '(secret IS NULL) <> (secret_nonce IS NULL)')


def downgrade():
    # A derived key cannot be written back without SECRET_KEY: endpoints that have one are removed
    # with their deliveries (re-add them after downgrading), as the older code could not sign for them.
    op.execute("DELETE FROM webhook_endpoints WHERE secret IS NULL")
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_webhook_endpoints_one_signing_key'), type_='check')
        batch_op.alter_column('secret', existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column('secret_nonce')
