"""Reading and checking an import file (DESIGN section 3, "Import CSV"), one row at a time.

Format: UTF-8 (a byte-order mark is accepted), comma-separated, any line endings, a header row.
Columns (names are case-insensitive, in any order):
- `perspective` (required): customer, staff or leader;
- `team` (required column; the value may be empty for respondents who belong to no team): a team
  that does not exist is an error, unless the import creates teams (`--create-teams`);
- `submitted_at` (required): ISO 8601, e.g. 2026-03-14T09:30:00+01:00; no offset means UTC;
- `respondent` (optional): free text, e.g. a customer email or a staff login;
- one column per item key of the survey: an integer 1-5, or empty when not answered;
- `predicted:<item key>` (optional): staff only, 1-5;
- `comment` (optional); `nps` (optional): 0-10, customers only.
A text cell that starts with a single quote followed by = + - @ tab, CR or another quote loses
that one quote (the formula-injection escape written by `export-responses`, see
perception.core.csv_cells). Each row is one respondent, even with a blank `respondent`. A row that
answers no item is imported (it keeps its comment and NPS) but counts in no figure. Lines that are
entirely empty are skipped and not numbered. Every error names the row (1 = the first data row),
its line in the file, the column and the value.

The file is read as a stream: a line is decoded, checked and handed on, so memory does not grow
with the file (perception/responses/csv_import.py writes the rows in chunks).
"""

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from perception.core.csv_cells import restore
from perception.core.extensions import db
from perception.core.models import PERSPECTIVES, Item, parse_utc, survey_items, utcnow

FIXED_COLUMNS = ("perspective", "respondent", "team", "submitted_at", "comment", "nps")
REQUIRED_COLUMNS = ("perspective", "team", "submitted_at")
PREDICTED_PREFIX = "predicted:"
SCORES = {str(score): score for score in range(1, 6)}
NPS_SCORES = {str(score): score for score in range(11)}
COMMENT_MAX = 5000  # the web form's limit
# Answers given between these (the latest: a day after the import, for clocks a little ahead). A year
# typed wrong (0001, 9999) passed before, and a by-month report then grouped some 120,000 months
# (15-50 s a page; a robustness review).
EARLIEST_ANSWER = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
TEAM_MAX, RESPONDENT_MAX = 120, 254  # the column sizes
MAX_ERRORS_KEPT = 1000  # more are counted, not kept: memory stays flat whatever the file


class ImportFailed(Exception):
    """The file was refused; nothing was written. `errors` lists the problems found (the first
    MAX_ERRORS_KEPT), `count` how many there were."""

    def __init__(self, errors, count=None):
        self.count = len(errors) if count is None else count
        super().__init__(f"{self.count} error(s)")
        self.errors = errors


class Errors:
    """The problems of one file: the first MAX_ERRORS_KEPT kept, all counted."""

    def __init__(self):
        self.kept, self.count = [], 0

    def add(self, message):
        self.count += 1
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append(message)

    def extend(self, messages):
        for message in messages:
            self.add(message)

    def __bool__(self):
        return self.count > 0

    def failure(self):
        return ImportFailed(self.kept, self.count)


@dataclass
class Row:
    """One checked data row: `where` names it ("row 7 (line 8)") for errors found later."""

    where: str
    perspective: str
    respondent: str | None
    team: str | None
    submitted_at: datetime
    comment: str | None
    nps: int | None
    answers: list  # [(item_id, score)]
    predictions: list  # [(item_id, score)]


def shown_value(value, limit=60):
    return repr(value if len(value) <= limit else value[:limit] + "...")


def parse_timestamp(value):
    """An aware UTC datetime from ISO 8601 text; no offset means UTC. ValueError if unreadable."""
    text = value.strip()
    if not text:
        raise ValueError("empty")
    return parse_utc(text)


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
    """A Row, or the list of this row's errors."""
    errors = []

    def value(name):
        # restore: a cell written by perception.reports.export_queries may carry a formula-injection escape.
        index = columns.fixed.get(name)
        return restore(values[index].strip()) if index is not None else ""

    def fail(column, raw, message):
        errors.append(f"{where}, column {column}: {shown_value(raw)} {message}")

    perspective = value("perspective").lower()
    if perspective not in PERSPECTIVES:
        fail("perspective", value("perspective"), "is not one of customer, staff, leader")
    submitted_at = None
    try:
        submitted_at = parse_timestamp(value("submitted_at"))
    except ValueError:
        fail("submitted_at", value("submitted_at"), "is not an ISO 8601 date and time (e.g. 2026-03-14T09:30:00Z)")
    else:
        if not EARLIEST_ANSWER <= submitted_at <= utcnow() + FUTURE_SLACK:
            fail("submitted_at", value("submitted_at"), "is before 2000 or in the future: check the year")
            submitted_at = None
    for index, raw in enumerate(values):
        if "\x00" in raw:  # PostgreSQL text cannot hold it, and SQLite would keep it unseen
            fail(columns.names[index], raw.replace("\x00", ""), "contains the NUL character (0x00)")
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
    return Row(where, perspective, respondent, team, submitted_at, comment, nps, answers, predictions)


def _item_keys(survey):
    """(item key -> id for the survey's items, every item key in the bank)."""
    rows = db.session.execute(
        select(Item.id, Item.key, survey_items.c.survey_id).outerjoin(
            survey_items, (survey_items.c.item_id == Item.id) & (survey_items.c.survey_id == survey.id)
        )
    ).all()
    return {key: item_id for item_id, key, in_survey in rows if in_survey is not None}, {key for _, key, _ in rows}


class NotUtf8(Exception):
    def __init__(self, line):
        super().__init__(f"line {line}: the file is not UTF-8 text (save it as \"CSV UTF-8\")")


def _text_lines(stream):
    """The file's lines as text, one at a time (never the whole file in memory). UTF-8 never puts a
    newline byte inside a character, so each line decodes alone; a lone CR also ends a line."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise NotUtf8(number) from None
        if "\r" in line[:-2]:
            yield from LONE_CR.split(line)
        else:
            yield line


LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def checked_rows(stream, survey, errors):
    """Yield every valid row of the CSV (a binary stream), one at a time; the problems of the others
    go to `errors` (an Errors). A header that is wrong, or a file that is not UTF-8 or not CSV,
    raises ImportFailed at once."""
    in_survey, bank_keys = _item_keys(survey)
    reader = csv.reader(_text_lines(stream))
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
                errors.add(f"{where}: {len(values)} values, but the header has {len(columns.names)} columns")
                continue
            checked = _check_row(values, columns, where)
            if isinstance(checked, list):
                errors.extend(checked)
            else:
                yield checked
    except NotUtf8 as error:
        errors.add(str(error))
        raise errors.failure() from None
    except csv.Error as error:
        errors.add(f"line {reader.line_num}: not readable as CSV ({error}); nothing after it was checked")
