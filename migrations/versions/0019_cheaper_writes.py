"""Cheaper writes (issue #17): fewer index entries per customer submit and per imported row, no
slower reader.

- answers: no index (item, response, score). Every reader comes from the responses by response id,
  the primary key's first column; the index put each answer of a submit on another page (on SQLite
  18 of the 46 pages a submit wrote, 1,100 responses stored). On SQLite answers and predicted_answers become WITHOUT ROWID
  tables: the primary key is the table, one b-tree clustered by response that holds the score, so the
  readers that used the index to read scores without visiting the table read the table itself.
- outbox_messages: the five UNIQUE (subject, kind, sequence) become unique indexes over the rows of
  their subject (WHERE subject IS NOT NULL): a row has one subject, so it enters one of them instead
  of five. NULL subjects never conflicted, so what is unique is unchanged, and the outbox's inserts
  name no conflict target (ON CONFLICT DO NOTHING), so every one of them still counts.
- responses: UNIQUE (survey, user) and UNIQUE (invitation), and the index by staff member served,
  hold only the rows where that column is set (a customer's response has no user, an imported or
  staff one no invitation, most have no staff member); a lookup by `column = value` implies the
  column is set, so both databases still use them for it. The index (survey, published_at) goes:
  its readers (the report cells' statements, the counts of answers waiting for their batch) read the
  survey's responses through ix_responses_report or ix_responses_unpublished as fast. On PostgreSQL
  publishing a batch (an UPDATE of published_at) writes a new entry into every index of the table.

SQLite rebuilds the tables (batch mode copies every row; env.py turns foreign keys off while
migrating), then analyses them: it forgets the statistics of the indexes of a rebuilt table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OUTBOX_SUBJECTS = ('invitation_id', 'follow_up_id', 'recovery_id', 'account_token_id', 'user_id')
REBUILT = ('answers', 'predicted_answers', 'outbox_messages', 'responses')


def _outbox_name(subject):
    return f"uq_outbox_messages_{subject.removesuffix('_id')}_kind_sequence"


def _where(column):
    where = sa.text(f'{column} IS NOT NULL')
    return {'sqlite_where': where, 'postgresql_where': where}


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
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for subject in OUTBOX_SUBJECTS:
            batch_op.drop_constraint(_outbox_name(subject), type_='unique')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for subject in OUTBOX_SUBJECTS:
            batch_op.create_index(_outbox_name(subject), [subject, 'kind', 'sequence'], unique=True,
                                  **_where(subject))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint('uq_responses_survey_user', type_='unique')
        batch_op.drop_constraint('uq_responses_invitation_id', type_='unique')
        batch_op.drop_index('ix_responses_staff_id')
        batch_op.drop_index('ix_responses_published')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('uq_responses_survey_user', ['survey_id', 'user_id'], unique=True, **_where('user_id'))
        batch_op.create_index('uq_responses_invitation_id', ['invitation_id'], unique=True,
                              **_where('invitation_id'))
        batch_op.create_index('ix_responses_staff_id', ['staff_id'], unique=False, **_where('staff_id'))
    _analyze()


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_staff_id')
        batch_op.drop_index('uq_responses_invitation_id')
        batch_op.drop_index('uq_responses_survey_user')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_responses_survey_user', ['survey_id', 'user_id'])
        batch_op.create_unique_constraint('uq_responses_invitation_id', ['invitation_id'])
        batch_op.create_index('ix_responses_staff_id', ['staff_id'], unique=False)
        batch_op.create_index('ix_responses_published', ['survey_id', 'published_at'], unique=False)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for subject in OUTBOX_SUBJECTS:
            batch_op.drop_index(_outbox_name(subject))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for subject in OUTBOX_SUBJECTS:
            batch_op.create_unique_constraint(_outbox_name(subject), [subject, 'kind', 'sequence'])
    with _scores_table('predicted_answers', with_rowid=True):
        pass
    with _scores_table('answers', with_rowid=True) as batch_op:
        batch_op.create_index('ix_answers_item_response_score', ['item_id', 'response_id', 'score'], unique=False)
    _analyze()
