"""Importing responses gathered elsewhere (DESIGN section 3, "Import CSV").

The file is checked completely before anything is written, and written in one transaction:
either every row is imported or none is. Every error names the row (1 = the first data row),
its line in the file, the column and the value.

Format: UTF-8 (a byte-order mark is accepted), comma-separated, any line endings, a header row.
Columns (names are case-insensitive, in any order):
- `perspective` (required): customer, staff or leader;
- `team` (required column; the value may be empty for respondents who belong to no team):
  a team that does not exist yet is created;
- `submitted_at` (required): ISO 8601, e.g. 2026-03-14T09:30:00+01:00; no offset means UTC;
- `respondent` (optional): free text, e.g. a customer email or a staff login;
- one column per item key of the survey: an integer 1-5, or empty when not answered;
- `predicted:<item key>` (optional): staff only, 1-5;
- `comment` (optional); `nps` (optional): 0-10, customers only.
A text cell that starts with a single quote followed by = + - @ tab, CR or another quote loses
that one quote (the formula-injection escape written by `export-responses`, see
perception.core.csv_cells). Each row is one respondent, even with a blank `respondent`. A row that answers no item is
imported (it keeps its comment and NPS) but counts in no figure. Lines that are entirely empty
are skipped and not numbered.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from perception.core.csv_cells import restore
from perception.core.extensions import db
from perception.core.models import PERSPECTIVES, Answer, Item, PredictedAnswer, Response, Team, survey_items
from perception.reports import service as report_cells

FIXED_COLUMNS = ("perspective", "respondent", "team", "submitted_at", "comment", "nps")
REQUIRED_COLUMNS = ("perspective", "team", "submitted_at")
PREDICTED_PREFIX = "predicted:"
SCORES = {str(score): score for score in range(1, 6)}
NPS_SCORES = {str(score): score for score in range(11)}
COMMENT_MAX = 5000  # the web form's limit
TEAM_MAX, RESPONDENT_MAX = 120, 254  # the column sizes
MAX_ERRORS_SHOWN = 50
BATCH = 2000


class ImportFailed(Exception):
    """The file was refused; nothing was written. `errors` lists every problem found."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class ImportWriteError(Exception):
    """The database refused the data while writing; the transaction was rolled back."""


@dataclass
class ImportSummary:
    survey: str
    per_perspective: dict = field(default_factory=lambda: dict.fromkeys(PERSPECTIVES, 0))
    created_teams: list = field(default_factory=list)
    unanswered: int = 0

    @property
    def total(self):
        return sum(self.per_perspective.values())


@dataclass
class _Row:
    perspective: str
    respondent: str | None
    team: str | None
    submitted_at: datetime
    comment: str | None
    nps: int | None
    answers: list  # [(item_id, score)]
    predictions: list  # [(item_id, score)]


def _show(value, limit=60):
    return repr(value if len(value) <= limit else value[:limit] + "...")


def parse_timestamp(value):
    """An aware UTC datetime from ISO 8601 text; no offset means UTC. ValueError if unreadable."""
    text = value.strip()
    if not text:
        raise ValueError("empty")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class _Columns:
    """The header, checked against the survey: which column is which."""

    def __init__(self, header, in_survey, bank_keys, survey_slug):
        self.errors = []
        self.names = [name.strip().lower() for name in header]
        self.items = {}  # column index -> item id
        self.predictions = {}  # column index -> item id
        self.fixed = {}  # column name -> index
        seen = {}
        for index, name in enumerate(self.names):
            where = f"header (line 1), column {index + 1}"
            if not name:
                self.errors.append(f"{where}: the column has no name")
                continue
            if name in seen:
                self.errors.append(f"{where}: {name!r} appears twice (also column {seen[name] + 1})")
                continue
            seen[name] = index
            key = name[len(PREDICTED_PREFIX):] if name.startswith(PREDICTED_PREFIX) else name
            if name in FIXED_COLUMNS:
                self.fixed[name] = index
            elif key in in_survey:
                target = self.predictions if name.startswith(PREDICTED_PREFIX) else self.items
                target[index] = in_survey[key]
            elif key in bank_keys:
                self.errors.append(f"{where}: item {key!r} is not part of survey {survey_slug!r}")
            elif name.startswith(PREDICTED_PREFIX):
                self.errors.append(f"{where}: {name!r} names an unknown item key {key!r}")
            else:
                self.errors.append(f"{where}: unknown column {name!r} (not an item key of survey {survey_slug!r})")
        for name in REQUIRED_COLUMNS:
            if name not in self.fixed:
                self.errors.append(f"header (line 1): the required column {name!r} is missing")
        if not self.items and not self.errors:
            self.errors.append(f"header (line 1): no column names an item of survey {survey_slug!r}")


def _check_row(values, columns, where):
    """A _Row, or the list of this row's errors."""
    errors = []

    def value(name):
        # restore: a cell written by perception.reports.export_queries may carry a formula-injection escape.
        index = columns.fixed.get(name)
        return restore(values[index].strip()) if index is not None else ""

    def fail(column, raw, message):
        errors.append(f"{where}, column {column}: {_show(raw)} {message}")

    perspective = value("perspective").lower()
    if perspective not in PERSPECTIVES:
        fail("perspective", value("perspective"), "is not one of customer, staff, leader")
    submitted_at = None
    try:
        submitted_at = parse_timestamp(value("submitted_at"))
    except ValueError:
        fail("submitted_at", value("submitted_at"), "is not an ISO 8601 date and time (e.g. 2026-03-14T09:30:00Z)")
    team, respondent, comment = value("team") or None, value("respondent") or None, value("comment") or None
    if team and len(team) > TEAM_MAX:
        fail("team", team, f"is longer than {TEAM_MAX} characters")
    if respondent and len(respondent) > RESPONDENT_MAX:
        fail("respondent", respondent, f"is longer than {RESPONDENT_MAX} characters")
    if comment and len(comment) > COMMENT_MAX:
        fail("comment", comment, f"is longer than {COMMENT_MAX} characters")
    nps = None
    if value("nps"):
        nps = NPS_SCORES.get(value("nps"))
        if nps is None:
            fail("nps", value("nps"), "is not an integer from 0 to 10")
        elif perspective in PERSPECTIVES and perspective != "customer":
            fail("nps", value("nps"), f"is given, but nps is for customers only (this row is {perspective})")
    answers, predictions = [], []
    for target, mapping, predicted in ((answers, columns.items, False), (predictions, columns.predictions, True)):
        for index, item_id in mapping.items():
            raw = values[index].strip()
            if not raw:
                continue
            score = SCORES.get(raw)
            if score is None:
                fail(columns.names[index], raw, "is not an integer from 1 to 5")
            elif predicted and perspective in PERSPECTIVES and perspective != "staff":
                fail(columns.names[index], raw, f"is a prediction, but predictions are for staff only "
                                                f"(this row is {perspective})")
            else:
                target.append((item_id, score))
    if errors:
        return errors
    return _Row(perspective, respondent, team, submitted_at, comment, nps, answers, predictions)


def _item_keys(survey):
    """(item key -> id for the survey's items, every item key in the bank)."""
    rows = db.session.execute(
        select(Item.id, Item.key, survey_items.c.survey_id).outerjoin(
            survey_items, (survey_items.c.item_id == Item.id) & (survey_items.c.survey_id == survey.id)
        )
    ).all()
    return {key: item_id for item_id, key, in_survey in rows if in_survey is not None}, {key for _, key, _ in rows}


def read_rows(stream, survey):
    """Check the whole CSV (a binary stream). Returns the rows, or raises ImportFailed."""
    in_survey, bank_keys = _item_keys(survey)
    data = stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFailed([f"line {line}: the file is not UTF-8 text (save it as \"CSV UTF-8\")"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    errors, rows = [], []
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFailed(["the file is empty: expected a header row"])
        columns = _Columns(header, in_survey, bank_keys, survey.slug)
        if columns.errors:
            raise ImportFailed(columns.errors)
        number = 0
        while True:
            line = reader.line_num + 1
            values = next(reader, None)
            if values is None:
                break
            if not any(cell.strip() for cell in values):
                continue
            number += 1
            where = f"row {number} (line {line})"
            if len(values) != len(columns.names):
                errors.append(f"{where}: {len(values)} values, but the header has {len(columns.names)} columns")
                continue
            checked = _check_row(values, columns, where)
            if isinstance(checked, list):
                errors.extend(checked)
            else:
                rows.append(checked)
    except csv.Error as error:
        errors.append(f"line {reader.line_num}: not readable as CSV ({error}); nothing after it was checked")
    if errors:
        raise ImportFailed(errors)
    return rows


def _team_ids(names, summary):
    """Team name -> id, creating the teams that do not exist yet (inside the open transaction)."""
    wanted = sorted(names)
    ids = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        ids.update(db.session.execute(select(Team.name, Team.id).where(Team.name.in_(chunk))).all())
    for name in wanted:
        if name not in ids:
            team = Team(name=name)
            db.session.add(team)
            db.session.flush()
            ids[name] = team.id
            summary.created_teams.append(name)
    return ids


def _insert_scores(table, rows):
    """(response_id, item_id, score) rows into answers / predicted_answers, in the open transaction.

    PostgreSQL gets COPY (psycopg would otherwise send one INSERT per row); SQLite an executemany.
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table.name} (response_id, item_id, score) FROM STDIN"
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.execute(insert(table), [{"response_id": r, "item_id": i, "score": s} for r, i, s in rows])


def _write(rows, survey, summary):
    responses = Response.__table__
    teams = _team_ids({row.team for row in rows if row.team}, summary)
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        # Core inserts (not ORM bulk): one executemany per table and batch, ids back in row order.
        ids = db.session.execute(
            insert(responses).returning(responses.c.id, sort_by_parameter_order=True),
            [
                {
                    "survey_id": survey.id, "perspective": row.perspective,
                    "team_id": teams[row.team] if row.team else None, "respondent": row.respondent,
                    "submitted_at": row.submitted_at, "comment": row.comment, "nps": row.nps,
                    "channel": "import", "user_id": None, "invitation_id": None,
                }
                for row in batch
            ],
        ).scalars().all()
        for table, attribute in ((Answer.__table__, "answers"), (PredictedAnswer.__table__, "predictions")):
            _insert_scores(table, [
                (response_id, item_id, score)
                for response_id, row in zip(ids, batch, strict=True) for item_id, score in getattr(row, attribute)
            ])
    for row in rows:
        summary.per_perspective[row.perspective] += 1
        summary.unanswered += not row.answers
    # Core inserts: no ORM hook sees them. Publish the complete batches of every group written to
    # (earlier answers of a group included), in the same transaction.
    groups = {report_cells.group_of(survey.id, teams[row.team] if row.team else None, None, row.perspective)
              for row in rows}
    report_cells.publish(db.session.connection(), groups)


def import_responses(stream, survey):
    """Check, then import a CSV (binary stream) into `survey` in one transaction.

    Returns an ImportSummary. Raises ImportFailed (nothing written) when any row is invalid,
    and ImportWriteError (rolled back, nothing written) when the database refuses the data.
    """
    rows = read_rows(stream, survey)
    summary = ImportSummary(survey=survey.slug)
    try:
        _write(rows, survey, summary)
        db.session.commit()
    except BaseException as error:
        db.session.rollback()
        dbapi = db.session.get_bind().dialect.loaded_dbapi
        if isinstance(error, SQLAlchemyError | dbapi.Error):
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise ImportWriteError(reason) from error
        raise
    return summary
