"""Cheaper writes (issue #17): fewer index entries per customer submit and per imported row, no
slower reader.

- answers: no index (item, response, score). Every reader comes from the responses by response id,
  the primary key's first column; the index put each answer of a submit on another page (on SQLite
  a third of the pages a submit wrote). On SQLite answers and predicted_answers become WITHOUT ROWID
  tables: the primary key is the table, one b-tree clustered by response that holds the score, so the
  readers that used the index to read scores without visiting the table read the table itself.

SQLite rebuilds the tables (batch mode copies every row; env.py turns foreign keys off while
migrating), then analyses them: it forgets the statistics of the indexes of a rebuilt table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

REBUILT = ('answers', 'predicted_answers')


def _sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def _scores_table(name, with_rowid):
    """batch_alter_table of answers or predicted_answers: rebuilt on SQLite as a rowid table or not."""
    if not _sqlite():
        return op.batch_alter_table(name, schema=None)
    return op.batch_alter_table(name, schema=None, recreate='always',
                                table_kwargs={'sqlite_with_rowid': with_rowid})


def _analyze():
    if _sqlite():
        for table in REBUILT:
            op.execute(f'ANALYZE {table}')


def upgrade():
    with _scores_table('answers', with_rowid=False) as batch_op:
        batch_op.drop_index('ix_answers_item_response_score')
    with _scores_table('predicted_answers', with_rowid=False):
        pass
    _analyze()


def downgrade():
    with _scores_table('predicted_answers', with_rowid=True):
        pass
    with _scores_table('answers', with_rowid=True) as batch_op:
        batch_op.create_index('ix_answers_item_response_score', ['item_id', 'response_id', 'score'], unique=False)
    _analyze()
