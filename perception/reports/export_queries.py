"""Exports: a survey's responses in the import format, and the gap report, as CSV.

Responses (`export-responses`, `/leaders/surveys/<slug>/export.csv`) are written in exactly
the columns `import-responses` reads (perception.responses.csv_import): perspective, respondent, team,
submitted_at, one column per item key of the survey, predicted:<item key> per item, comment,
nps. Text cells are protected against formula injection (perception.core.csv_cells), and the
importer undoes that protection, so export -> import into an empty database gives the same
gap report, figure for figure.

Streaming, constant memory: responses are read with a server-side cursor (`yield_per`) in
batches of BATCH; each batch's answers and predictions are fetched with one IN query each and
written out before the next batch is read. Nothing holds more than one batch.

Two levels of detail:
- full (`flask export-responses`, for operators): respondent = the stored respondent, else the
  customer's email from the invitation, else the staff/leader account's email; exact times.
- anonymous (the leaders' download, and `--anonymous`): published responses only (answers enter
  the figures in batches: perception/insights/publication.py), no respondent at all (no customer
  email, no staff login); the `submitted_at` column holds the day the response was published (its
  batch's last answer, UTC midnight, so months stay those of the figures);
  a row whose team has fewer than `min_n` responses of its perspective in the survey loses its
  team and its comment (it still counts in the whole-survey figures); a customer comment is
  kept only when its team and month have at least `min_n` customer responses (the rule of the
  support-vs-erode board). The whole-survey and by-month gap reports of an anonymous export
  therefore match the original; by team, only cells that were already suppressed differ.
"""

import csv
import io
from datetime import UTC

from sqlalchemy import func, select, true

from perception.core.csv_cells import neutralise
from perception.core.database import utc_month
from perception.core.extensions import db
from perception.core.models import (
    Answer,
    Dimension,
    Invitation,
    Item,
    PredictedAnswer,
    Response,
    Team,
    User,
    survey_items,
)
from perception.insights import PERSPECTIVES

BATCH = 1000
PREDICTED_PREFIX = "predicted:"


def survey_item_keys(survey):
    """[(item id, item key)] of the survey, in the gap report's display order."""
    return db.session.execute(
        select(Item.id, Item.key)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .where(survey_items.c.survey_id == survey.id)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).all()


def header(item_keys):
    keys = [key for _, key in item_keys]
    return ["perspective", "respondent", "team", "submitted_at", *keys,
            *(PREDICTED_PREFIX + key for key in keys), "comment", "nps"]


def _iso(moment, to_day):
    moment = moment.astimezone(UTC)
    if to_day:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


class _Anonymity:
    """Which teams and comments the anonymous export may show (two small GROUP BY queries)."""

    def __init__(self, survey, min_n):
        r = Response.__table__
        counts = db.session.execute(
            select(r.c.team_id, r.c.perspective, func.count())
            .where(r.c.survey_id == survey.id, r.c.team_id.is_not(None), r.c.published_at.is_not(None))
            .group_by(r.c.team_id, r.c.perspective)
        ).all()
        self.teams = {(team, perspective) for team, perspective, n in counts if n >= min_n}
        month = utc_month(r.c.published_at)
        months = db.session.execute(
            select(r.c.team_id, month, func.count())
            .where(r.c.survey_id == survey.id, r.c.perspective == "customer", r.c.team_id.is_not(None),
                   r.c.published_at.is_not(None))
            .group_by(r.c.team_id, month)
        ).all()
        self.comment_months = {(team, label) for team, label, n in months if n >= min_n}

    def team_shown(self, team_id, perspective):
        return (team_id, perspective) in self.teams

    def comment_shown(self, team_id, perspective, submitted_at):
        if not self.team_shown(team_id, perspective):
            return False
        if perspective != "customer":
            return True
        return (team_id, submitted_at.astimezone(UTC).strftime("%Y-%m")) in self.comment_months


def _scores(table, ids):
    found = {}
    for response_id, item_id, score in db.session.execute(
        select(table.c.response_id, table.c.item_id, table.c.score).where(table.c.response_id.in_(ids))
    ):
        found.setdefault(response_id, {})[item_id] = score
    return found


def export_rows(survey, *, anonymous=False, min_n=5, batch=BATCH):
    """The header, then one list of cell texts per response (oldest first), streamed in batches."""
    item_keys = survey_item_keys(survey)
    yield header(item_keys)
    rules = _Anonymity(survey, min_n) if anonymous else None
    r, invitation, user, team = Response.__table__, Invitation.__table__, User.__table__, Team.__table__
    statement = (
        select(r.c.id, r.c.perspective, r.c.respondent, invitation.c.customer_email, user.c.email, team.c.name,
               r.c.team_id, (r.c.published_at if anonymous else r.c.submitted_at).label("submitted_at"), r.c.comment,
               r.c.nps)
        .select_from(r.outerjoin(invitation, invitation.c.id == r.c.invitation_id)
                     .outerjoin(user, user.c.id == r.c.user_id)
                     .outerjoin(team, team.c.id == r.c.team_id))
        .where(r.c.survey_id == survey.id, r.c.perspective.in_(PERSPECTIVES),
               r.c.published_at.is_not(None) if anonymous else true())
        .order_by(r.c.id)
        .execution_options(yield_per=batch)
    )
    # `with`: a download stopped halfway (GeneratorExit) closes the server-side cursor at once.
    with db.session.execute(statement) as result:
        yield from _export_batches(result, item_keys, rules, anonymous)


def _export_batches(result, item_keys, rules, anonymous):
    for rows in result.partitions():
        ids = [row.id for row in rows]
        answers, predictions = _scores(Answer.__table__, ids), _scores(PredictedAnswer.__table__, ids)
        for row in rows:
            submitted_at = row.submitted_at  # aware UTC (published_at when anonymous): UTCDateTime converts it
            team_name, comment, respondent = row.name, row.comment, row.respondent or row.customer_email or row.email
            if rules is not None:
                respondent = None
                if not rules.team_shown(row.team_id, row.perspective):
                    team_name = None
                if not rules.comment_shown(row.team_id, row.perspective, submitted_at):
                    comment = None
            given, predicted = answers.get(row.id, {}), predictions.get(row.id, {})
            yield [
                row.perspective, neutralise(respondent), neutralise(team_name), _iso(submitted_at, anonymous),
                *(str(given[item_id]) if item_id in given else "" for item_id, _ in item_keys),
                *(str(predicted[item_id]) if item_id in predicted else "" for item_id, _ in item_keys),
                neutralise(comment), "" if row.nps is None else str(row.nps),
            ]


def csv_chunks(rows, lines_per_chunk=200):
    """CSV text in chunks of about `lines_per_chunk` lines (CRLF line ends, as RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % lines_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


GAP_COLUMNS = (
    "survey", "group_by", "group", "level", "key", "name", "dimension", "perspective", "n", "suppressed", "mean",
    "sd", "ci_low", "ci_high", "top_box", "gap", "gap_ci_low", "gap_ci_high", "gap_p", "top_box_gap", "calibration",
)


def _number(value):
    return "" if value is None else repr(float(value))


def _cell_rows(survey, group_by, group, level, cell):
    for perspective in PERSPECTIVES:
        stats = getattr(cell, perspective)
        gap = {"staff": cell.gap, "leader": cell.leader_gap}.get(perspective)
        ci = stats.ci or (None, None)
        gap_ci = (gap.ci or (None, None)) if gap is not None else (None, None)
        yield [
            neutralise(survey), group_by or "", neutralise(group), level, neutralise(cell.key),
            neutralise(cell.name or ""), neutralise(cell.dimension or ""), perspective, str(stats.n),
            "true" if stats.suppressed else "false", _number(stats.mean), _number(stats.sd), _number(ci[0]),
            _number(ci[1]), _number(stats.top_box),
            _number(gap.value) if gap else "", _number(gap_ci[0]), _number(gap_ci[1]),
            _number(gap.p) if gap else "", _number(gap.top_box_gap) if gap else "",
            _number(cell.calibration) if perspective == "staff" else "",
        ]


def gap_rows(report):
    """The gap report as rows: one per dimension or item and perspective, for the whole
    selection (group empty) and then for each group. Full floats; empty cells for null."""
    yield list(GAP_COLUMNS)
    bodies = [("", report)] + [(group.label, group) for group in report.groups]
    for label, body in bodies:
        group_by = report.group_by if label else ""
        for level, cells in (("dimension", body.dimensions), ("item", body.items)):
            for cell in cells:
                yield from _cell_rows(report.survey, group_by, label, level, cell)
