"""Importing responses gathered elsewhere (DESIGN section 3, "Import CSV"; the format and its checks
are perception/responses/csv_rows.py).

All or nothing: the rows are written in one transaction while the file is read, and rolled back if
any row turns out wrong, so nothing is kept unless every row is valid.

Streaming: the file is read, checked and written CHUNK rows at a time (one executemany per table and
chunk on SQLite, COPY on PostgreSQL), so memory stays flat whatever the file's size. A chunk's rows
get their ids first, so the batches they complete are formed before they are written
(batch_service.publish_dated with the arriving rows: the same batches as writing the chunk and then
publishing its groups) and each response is written once, with its publication date.

Importing a file again adds nothing (DESIGN section 3). A row is skipped, and counted, when its
survey, perspective, respondent, team and `submitted_at` are already stored. The respondent of a
stored response is what `export-responses` writes for it: the stored `respondent`, else the
customer's email of its invitation, else the account's email; so a full export imported back into
its own survey adds nothing either. Within one file a named respondent counts once per team and
time. A row with a blank respondent cannot be told from another respondent's blank row (an
anonymous export has many with the same team and day, and DESIGN section 2 makes each row one
respondent), so such rows are all imported the first time and skipped when the same blank key was
stored before this import began.

Teams: a team that does not exist is an error naming the row and column, unless `create_teams`;
a team merged into another stands for that one (perception/teams/service.py); an archived team
takes its history back. `create_teams` makes the missing teams as every team is made
(perception/accounts/team_service.py: the same name rules and a `team.created` audit event each, in
the import's transaction, so they go if it fails); a name those rules refuse (one differing from a
team's only in case) is an error naming the row. A name is found as written or with its white space
tidied, the name a team made from it gets, so importing the file again finds that team.
"""

import contextlib
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from perception.accounts.team_service import add_teams, spaced
from perception.core.audit import record
from perception.core.database import take_sqlite_write_lock
from perception.core.extensions import db
from perception.core.models import PERSPECTIVES, Answer, Invitation, PredictedAnswer, Response, Team, User
from perception.insights import answer_pattern
from perception.reports import service as report_cells
from perception.reports.tally_service import CellTally
from perception.responses.csv_rows import Errors, ImportFailed, checked_rows, shown_value

__all__ = ["CHUNK", "ImportFailed", "ImportSummary", "ImportWriteError", "import_responses", "names_summary"]

CHUNK = 2000
NAMES_SHOWN = 3


class ImportWriteError(Exception):
    """The database refused the data while writing; the transaction was rolled back."""


def names_summary(names, total=None, shown=NAMES_SHOWN):
    """"A, B, C and 1,997 more": a few names and a count, never a list as long as the data. `names`
    may hold only the first few of `total`."""
    names = list(names)
    total = len(names) if total is None else total
    if total <= shown + 1:
        return ", ".join(names[:total])
    return f"{', '.join(names[:shown])} and {total - shown:,} more"


@dataclass
class ImportSummary:
    survey: str
    per_perspective: dict = field(default_factory=lambda: dict.fromkeys(PERSPECTIVES, 0))
    created_teams: int = 0
    created_team_names: list = field(default_factory=list)  # the first NAMES_SHOWN + 1 only
    skipped: int = 0
    unanswered: int = 0

    @property
    def total(self):
        return sum(self.per_perspective.values())

    def created(self, name):
        self.created_teams += 1
        if len(self.created_team_names) <= NAMES_SHOWN:
            self.created_team_names.append(name)

    def created_teams_text(self):
        return f"Created {self.created_teams:,} team(s): {names_summary(self.created_team_names, self.created_teams)}."


class _Writer:
    """Writes checked rows chunk by chunk in the open transaction: teams, duplicates, inserts."""

    def __init__(self, survey, create_teams, summary, errors, actor=None):
        self.survey, self.create_teams, self.summary, self.errors = survey, create_teams, summary, errors
        self.actor = actor  # who makes the new teams (None: the command line)
        self.teams = {}  # name -> id (one entry per team named in the file, not per row)
        self.refused = {}  # name -> why --create-teams could not make it (perception.accounts.team_service)
        connection = db.session.connection()
        # SQLite: no other writer can add a response until this import ends, so the ids given from here
        # on are free, and `before` below stays true.
        take_sqlite_write_lock(connection)
        # Responses up to this id were stored before the import began (for rows with no respondent).
        self.before = connection.execute(select(func.max(Response.id))).scalar_one() or 0
        self.next_id = self.before + 1
        self.tally = CellTally(db.session, survey.id)

    def _team_ids(self, rows):
        """Look up the teams the chunk names that earlier chunks did not, in one query (a name as written,
        else with its white space tidied, as a team made from it is named); with `create_teams`, make the
        missing ones as every team is made: name rules, one flush, one audit event per new team."""
        wanted = sorted({row.team for row in rows if row.team and row.team not in self.teams})
        if not wanted:
            return
        names = set(wanted) | {spaced(name) for name in wanted}
        found = dict(db.session.execute(select(Team.name, Team).where(Team.name.in_(sorted(names)))).all())
        teams = {}
        for name in wanted:
            team = found.get(name) or found.get(spaced(name))
            while team is not None and team.merged_into_id is not None:  # a merged name stands for its team
                team = db.session.get(Team, team.merged_into_id)
            teams[name] = team
        missing = [name for name, team in teams.items() if team is None]
        if missing and self.create_teams:
            created, refused = add_teams(missing, actor=self.actor)
            teams.update(created)
            self.refused.update((name, str(error)) for name, error in refused.items())
            for team in dict.fromkeys(created.values()):
                self.summary.created(team.name)
        self.teams.update((name, team.id if team is not None else None) for name, team in teams.items())

    def _stored(self, rows):
        """(keys of stored responses with a respondent, keys stored before the import with none)."""
        r, i, u = Response.__table__.c, Invitation.__table__.c, User.__table__.c
        respondent = func.coalesce(r.respondent, i.customer_email, u.email)
        statement = (
            select(r.perspective, respondent, r.team_id, r.submitted_at, r.id)
            .select_from(Response.__table__.outerjoin(Invitation.__table__, i.id == r.invitation_id)
                         .outerjoin(User.__table__, u.id == r.user_id))
            .where(r.survey_id == self.survey.id, r.submitted_at.in_(sorted({row.submitted_at for row in rows})))
        )
        named, blank = set(), set()
        for perspective, who, team_id, submitted_at, response_id in db.session.execute(statement):
            if who is not None:
                named.add((perspective, who, team_id, submitted_at))
            elif response_id <= self.before:
                blank.add((perspective, None, team_id, submitted_at))
        return named, blank

    def write(self, rows):
        self._team_ids(rows)
        for row in rows:
            if row.team and self.teams[row.team] is None:
                refusal = self.refused.get(row.team)
                self.errors.add(f"{row.where}, column team: {shown_value(row.team)} is not a team "
                                + (f"and cannot be created: {refusal}" if refusal
                                   else "(create it first, or import with --create-teams)"))
        if self.errors:
            return  # the transaction will be rolled back: no use writing
        named, blank = self._stored(rows)
        kept, seen = [], set()
        for row in rows:
            team_id = self.teams[row.team] if row.team else None
            key = (row.perspective, row.respondent, team_id, row.submitted_at)
            if key in (named if row.respondent else blank) or (row.respondent and key in seen):
                self.summary.skipped += 1
                continue
            seen.add(key)
            kept.append((row, team_id))
        if kept:
            self._insert(kept)

    def _insert(self, kept):
        connection = db.session.connection()
        ids = self._new_ids(connection, len(kept))
        # The batches this chunk completes in its groups (earlier answers of a group included) are
        # formed before the rows are written, so each is written once, with its publication date.
        arriving = {}
        for response_id, (row, team_id) in zip(ids, kept, strict=True):
            group = report_cells.group_of(self.survey.id, team_id, None, row.perspective, False)  # no consent
            given = answer_pattern((item_id for item_id, _ in row.answers), (item_id for item_id, _ in row.predictions),
                                   row.nps is not None)
            arriving.setdefault(group, []).append((response_id, row.submitted_at, given))
        dated = report_cells.publish_dated(connection, arriving.keys(), arriving).get(self.survey.id, {})
        rows = [(response_id, self.survey.id, row.perspective, team_id, row.respondent, row.submitted_at,
                 row.comment, row.nps, dated.get(response_id))
                for response_id, (row, team_id) in zip(ids, kept, strict=True)]
        if connection.dialect.name == "sqlite":
            dialect = connection.dialect
            stamp = Response.__table__.c.submitted_at.type.dialect_impl(dialect).bind_processor(dialect)
            connection.exec_driver_sql(SQLITE_RESPONSES_INSERT, [
                (*row[:5], stamp(row[5]), *row[6:8], stamp(row[8]))
                for row in rows])
        else:
            _copy(connection, POSTGRESQL_RESPONSES_COPY, ((*row, "import", False) for row in rows))
        del rows
        for table, attribute in ((Answer.__table__, "answers"), (PredictedAnswer.__table__, "predictions")):
            _insert_scores(table, [(response_id, item_id, score)
                                   for response_id, (row, _) in zip(ids, kept, strict=True)
                                   for item_id, score in getattr(row, attribute)])
        for response_id, (row, team_id) in zip(ids, kept, strict=True):
            self.summary.per_perspective[row.perspective] += 1
            self.summary.unanswered += not row.answers
            self.tally.written(response_id, team_id, row.perspective, row.answers, row.predictions)
        # Core inserts: no ORM hook sees them. Count the published responses in the cells (in
        # Python, from the scores written: perception/reports/tally_service.py), in the same
        # transaction; chunk by chunk, so memory does not grow with the file.
        self.tally.published(dated)

    def _new_ids(self, connection, count):
        """Ids for `count` new responses, increasing in the order of the rows. SQLite: this
        transaction holds the one write lock since before it read the largest id (see __init__),
        so the ids above it are free. PostgreSQL: taken from the table's sequence, as an insert
        would (other writers may take the ones between)."""
        if connection.dialect.name == "sqlite":
            first = self.next_id
            self.next_id += count
            return range(first, self.next_id)
        return sorted(connection.exec_driver_sql(POSTGRESQL_RESPONSE_IDS, (count,)).scalars())


SQLITE_RESPONSES_INSERT = ("INSERT INTO responses (id, survey_id, perspective, team_id, respondent, submitted_at, "
                           "comment, nps, published_at, channel, contact_consent) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'import', 0)")
POSTGRESQL_RESPONSE_IDS = "SELECT nextval(pg_get_serial_sequence('responses', 'id')) FROM generate_series(1, %s)"
POSTGRESQL_RESPONSES_COPY = ("COPY responses (id, survey_id, perspective, team_id, respondent, submitted_at, comment, "
                             "nps, published_at, channel, contact_consent) FROM STDIN")


def _copy(connection, statement, rows):
    """COPY `rows` in the open transaction (psycopg would otherwise send one INSERT per row)."""
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _insert_scores(table, rows):
    """(response_id, item_id, score) rows into answers / predicted_answers, in the open transaction.

    PostgreSQL gets COPY (psycopg would otherwise send one INSERT per row); SQLite the driver's own
    executemany with plain tuples (no per-row work in SQLAlchemy).
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, f"COPY {table.name} (response_id, item_id, score) FROM STDIN", rows)
        return
    connection.exec_driver_sql(SQLITE_SCORES_INSERT[table.name], rows)


SQLITE_SCORES_INSERT = {
    "answers": "INSERT INTO answers (response_id, item_id, score) VALUES (?, ?, ?)",
    "predicted_answers": "INSERT INTO predicted_answers (response_id, item_id, score) VALUES (?, ?, ?)",
}


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_responses(stream, survey, create_teams=False, actor=None):
    """Check and import a CSV (binary stream) into `survey` in one transaction.

    Returns an ImportSummary. Raises ImportFailed (nothing written) when any row is invalid or names
    a team that does not exist (unless `create_teams`), and ImportWriteError (rolled back, nothing
    written) when the database refuses the data.
    """
    summary, errors = ImportSummary(survey=survey.slug), Errors()
    writer = None
    try:
        writer = _Writer(survey, create_teams, summary, errors, actor)
        for chunk in _chunks(checked_rows(stream, survey, errors), CHUNK):
            if not errors:
                writer.write(chunk)
        if errors:
            raise errors.failure()
        writer.tally.flush()
        writer.tally.close()
        record("responses.imported", actor=actor, target=survey, imported=summary.total, skipped=summary.skipped,
               created_teams=summary.created_teams, **summary.per_perspective)
        db.session.commit()
    except BaseException as error:
        if writer is not None:
            with contextlib.suppress(Exception):  # the connection may be what failed
                writer.tally.close()
        db.session.rollback()
        dbapi = db.session.get_bind().dialect.loaded_dbapi
        if isinstance(error, SQLAlchemyError | dbapi.Error):
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise ImportWriteError(reason) from error
        raise
    return summary
