"""Inviting customers from a CSV file, all or nothing.

Columns (header row, any order, case-insensitive): `email`, `name`, `team`, `interaction_date`
(required), `staff_email` and `language` (optional). Every problem is reported with its row
(the header is row 1) and column, including an address twice in the file and an address
already invited to the survey; if there is any problem, no invitation is made."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from perception.core.extensions import db
from perception.core.models import Invitation, Team, User, parse_utc, utcnow
from perception.core.suppression import suppression_reasons
from perception.invitations.service import (
    InvitationError,
    InvitationRequest,
    add_invitation,
    already_invited,
    check_email,
    check_interaction_at,
    check_language,
    hold_invitations,
    scope_refusal,
    staff_problem,
    visit_on,
)

REQUIRED = ("email", "name", "team", "interaction_date")
OPTIONAL = ("staff_email", "language")
MAX_ROWS = 5000
TEMPLATE = "email,name,team,interaction_date,staff_email,language\n" \
           "ana@example.org,Ana Lima,Harbour Street branch,2026-03-14,,en\n"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self):
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class CsvInvitationError(ValueError):
    def __init__(self, errors):
        super().__init__(f"{len(errors)} problem(s) in the file")
        self.errors = errors


def parse_interaction_date(value, now):
    """'2026-03-14' (see `visit_on`) or an ISO 8601 time."""
    value = (value or "").strip()
    try:
        moment = date.fromisoformat(value) if len(value) == 10 else parse_utc(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-03-14 (or an ISO 8601 time)") from None
    return moment if isinstance(moment, datetime) else visit_on(moment, now)


def _reader(text):
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": a line ends at CR LF, LF or a CR alone (Excel for Mac's "CSV (Macintosh)"), as in the
    # importer (responses/csv_rows); split at LF only, a CR-only file was "not readable as CSV" (a review).
    return csv.reader(io.StringIO(text, newline=""), dialect)


def _rows(text):
    """Every row of the file, or CsvInvitationError naming the row that is not CSV (a cell over the
    csv module's limit of 131,072 characters answered 500: a robustness review)."""
    reader, rows = _reader(text), []
    try:
        rows.extend(reader)
    except csv.Error as error:
        raise CsvInvitationError([RowError(len(rows) + 1, None, f"not readable as CSV ({error})")]) from None
    return rows


def _header(row):
    columns = [(cell or "").strip().lower().replace(" ", "_") for cell in row]
    errors = [RowError(1, column, f"unknown column; the columns are {', '.join(REQUIRED + OPTIONAL)}")
              for column in columns if column not in REQUIRED + OPTIONAL]
    errors += [RowError(1, column, "the column appears twice") for column in set(columns) if columns.count(column) > 1]
    errors += [RowError(1, column, "required column missing") for column in REQUIRED if column not in columns]
    return columns, errors


def read_invitations(survey, text, now=None, created_by=None):
    """Parse and check the whole file; returns [InvitationRequest] or raises CsvInvitationError.
    A team's leader (`created_by`) may name their own team only (perception.accounts.scope)."""
    now = now or utcnow()
    rows = _rows(text.lstrip("\ufeff"))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise CsvInvitationError([RowError(1, None, "the file is empty; the first row must name the columns")])
    columns, errors = _header(rows[0])
    if errors:
        raise CsvInvitationError(errors)
    data = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if not data:
        raise CsvInvitationError([RowError(2, None, "there are no customers below the header row")])
    if len(data) > MAX_ROWS:
        raise CsvInvitationError([RowError(MAX_ROWS + 2, None, f"at most {MAX_ROWS} customers per file")])
    if not survey.is_accepting(now):
        raise CsvInvitationError([RowError(1, None, f"survey {survey.slug} is not open for answers")])
    context = _Lookups(survey, [dict(zip(columns, row, strict=False)) for _number, row in data])
    requests, seen = [], {}
    for number, row in data:
        if len(row) != len(columns):
            errors.append(RowError(number, None, f"{len(row)} cells, but the header has {len(columns)} columns"))
            continue
        request = _row(survey, dict(zip(columns, row, strict=True)), number, context, seen, errors, now, created_by)
        if request is not None:
            requests.append(request)
    if errors:
        raise CsvInvitationError(errors)
    return requests


def _addresses(rows, column):
    """The addresses of `column` to look up. A cell holding a NUL is left out (the row check names it):
    PostgreSQL refused it in the lookup, a 500 (a robustness hunt)."""
    return {cell.strip().lower() for row in rows if "\x00" not in (cell := row.get(column) or "")} - {""}


class _Lookups:
    """Teams, staff, earlier invitations and suppressed addresses, each in one query."""

    def __init__(self, survey, rows):
        emails = _addresses(rows, "email")
        # Archived and merged teams take no new invitations: their names read as unknown teams here.
        self.teams = {team.name.lower(): team for team in db.session.execute(
            select(Team).where(Team.archived_at.is_(None))).scalars()}
        staff_emails = _addresses(rows, "staff_email")
        self.staff = {user.email.lower(): user for user in db.session.execute(
            select(User).where(func.lower(User.email).in_(staff_emails))).scalars()} if staff_emails else {}
        self.invited = {}  # email -> (when, team id) of its first invitation to the survey
        for email, created_at, team_id in (db.session.execute(
                select(Invitation.customer_email, Invitation.created_at, Invitation.team_id)
                .where(Invitation.survey_id == survey.id, Invitation.customer_email.in_(emails))
                .order_by(Invitation.id.desc())) if emails else ()):  # the first: `existing_invitation`'s
            self.invited[email] = (created_at, team_id)
        self.suppressed = set(suppression_reasons(emails))


def _row(survey, row, number, lookups, seen, errors, now, created_by=None):
    def fail(column, message):
        errors.append(RowError(number, column, message))

    values = {column: (row.get(column) or "").strip() for column in REQUIRED + OPTIONAL}
    for column, value in values.items():
        if "\x00" in value:  # PostgreSQL text cannot hold it (a robustness review: a 500)
            fail(column, "contains the NUL character (0x00)")
            values[column] = value.replace("\x00", "")
    email = None
    try:
        email = check_email(values["email"])
    except InvitationError as error:
        fail("email", str(error) if values["email"] else "an email address is required")
    if email:
        if email in seen:
            fail("email", f"{email} appears twice in the file (also row {seen[email]})")
        else:
            seen[email] = number
        if email in lookups.invited:
            fail("email", already_invited(email, survey, *lookups.invited[email], created_by))
        if email in lookups.suppressed:
            fail("email", f"{email} asked for no more survey emails (unsubscribed or bounced)")
    if len(values["name"]) > 120:
        fail("name", "at most 120 characters")
    team = lookups.teams.get(values["team"].lower())
    team_ok = False
    if not values["team"]:
        fail("team", "a team is required")
    elif refusal := scope_refusal(created_by, team, values["team"]):
        fail("team", refusal)  # first: another team's name must read like an unknown one
    elif team is None:
        fail("team", f"there is no team named {values['team']!r}")
    elif not survey.covers_team(team.id):
        fail("team", f"survey {survey.slug} does not cover team {team.name}")
    else:
        team_ok = True
    staff = None
    if values["staff_email"]:
        staff = lookups.staff.get(values["staff_email"].lower())
        # Checked only against a team the row may name: a row refused on its team already says so,
        # and another team's staff list is not the reader's to test.
        if team_ok and (problem := staff_problem(values["staff_email"], staff, team, created_by)):
            fail("staff_email", problem)
    interaction_at = None
    try:
        interaction_at = check_interaction_at(parse_interaction_date(values["interaction_date"], now), now)
    except (ValueError, InvitationError) as error:
        fail("interaction_date", str(error) if values["interaction_date"] else "the date of the visit is required")
    language = None
    try:
        language = check_language(values["language"])
    except InvitationError as error:
        fail("language", str(error))
    if any(error.row == number for error in errors):
        return None
    return InvitationRequest(survey=survey, team=team, email=email, name=values["name"] or None, staff=staff,
                             interaction_at=interaction_at, language=language, deliver="email")


def import_invitations(survey, text, created_by=None, now=None):
    """Check the whole file, then make every invitation and queue its mail in one transaction."""
    now = now or utcnow()
    hold_invitations(survey)  # the file's "already invited" checks and its inserts are one step
    requests = read_invitations(survey, text, now, created_by)
    invitations = [add_invitation(request, created_by=created_by, now=now, commit=False)[0] for request in requests]
    db.session.commit()
    return invitations
