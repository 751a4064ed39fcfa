"""Exports: a survey's responses in the import format, and the gap report, as CSV.

Responses (`export-responses`, `/leaders/surveys/<slug>/export.csv`) are written in exactly
the columns `import-responses` reads (perception.responses.csv_import): perspective, respondent, team,
submitted_at, one column per item key of the survey, predicted:<item key> per item, comment,
nps. Text cells are protected against formula injection (perception.core.csv_cells), and the
importer undoes that protection, so a full export -> import into an empty database gives the
same gap report, figure for figure.

Streaming, constant memory: responses are read with a server-side cursor (`yield_per`) in
batches of BATCH; each batch's answers and predictions are fetched with one IN query each and
written out before the next batch is read. Nothing holds more than one batch.

Two levels of detail:
- full (`flask export-responses`, for operators): every row of every perspective; respondent =
  the stored respondent, else the customer's email from the invitation, else the staff/leader
  account's email; exact times. The backup-style export: it stays with the operator.
- anonymous (the leaders' download, and `--anonymous`), what DESIGN section 2 lets be published:
  customer rows only (a staff member's or leader's answers are shown to that person only);
  published responses only (answers enter the figures in batches: perception/insights/publication.py),
  and only those of a published cell, a team and UTC month of publication with at least `min_n`
  published customer responses (perception.board.queries.published_cells, the rule of the
  support-vs-erode board, so a comment is in the file exactly where the board would show it); no
  respondent at all (no customer email); the `submitted_at` column holds the day the response
  was published (its batch's last answer, UTC midnight, so months stay those of the figures).
  Rows come by day and team, and within them in an order unrelated to when they were written
  (perception.core.tokens.row_reference): in the order of submission, a day's rows would tell
  whoever knows who answered when whose row is whose. Imported again, it gives the customer figures
  of every published team and month exactly.
"""

from datetime import UTC

from sqlalchemy import and_, select

from perception.board.queries import published_cells
from perception.core.csv_cells import neutralise
from perception.core.database import utc_day, utc_month
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
from perception.core.tokens import row_reference
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


def _scores(table, ids):
    found = {}
    for response_id, item_id, score in db.session.execute(
        select(table.c.response_id, table.c.item_id, table.c.score).where(table.c.response_id.in_(ids))
    ):
        found.setdefault(response_id, {})[item_id] = score
    return found


def export_rows(survey, *, anonymous=False, min_n=5, batch=BATCH, team_id=None):
    """The header, then one list of cell texts per response (oldest first; anonymous: oldest day
    first, see the module docstring), streamed in batches. `team_id`: that team's responses only
    (a team's leader's download)."""
    item_keys = survey_item_keys(survey)
    yield header(item_keys)
    r, invitation, user, team = Response.__table__, Invitation.__table__, User.__table__, Team.__table__
    joined = (r.outerjoin(invitation, invitation.c.id == r.c.invitation_id)
              .outerjoin(user, user.c.id == r.c.user_id)
              .outerjoin(team, team.c.id == r.c.team_id))
    conditions = [r.c.survey_id == survey.id, r.c.perspective.in_(PERSPECTIVES)]
    if team_id is not None:
        conditions.append(r.c.team_id == team_id)
    order = [r.c.id]
    if anonymous:
        cells = published_cells(survey, min_n)
        joined = joined.join(cells, and_(cells.c.team_id == r.c.team_id, cells.c.month == utc_month(r.c.published_at)))
        conditions += [r.c.perspective == "customer", r.c.published_at.is_not(None)]
        order = [utc_day(r.c.published_at), team.c.name, row_reference(r.c.id)]
    statement = (
        select(r.c.id, r.c.perspective, r.c.respondent, invitation.c.customer_email, user.c.email, team.c.name,
               (r.c.published_at if anonymous else r.c.submitted_at).label("submitted_at"), r.c.comment, r.c.nps)
        .select_from(joined).where(*conditions)
        .order_by(*order)
        .execution_options(yield_per=batch)
    )
    # `with`: a download stopped halfway (GeneratorExit) closes the server-side cursor at once.
    with db.session.execute(statement) as result:
        yield from _export_batches(result, item_keys, anonymous)


def _export_batches(result, item_keys, anonymous):
    for rows in result.partitions():
        ids = [row.id for row in rows]
        answers, predictions = _scores(Answer.__table__, ids), _scores(PredictedAnswer.__table__, ids)
        for row in rows:
            respondent = None if anonymous else row.respondent or row.customer_email or row.email
            given, predicted = answers.get(row.id, {}), predictions.get(row.id, {})
            yield [
                # submitted_at is aware UTC (published_at when anonymous): the UTCDateTime type converts it
                row.perspective, neutralise(respondent), neutralise(row.name), _iso(row.submitted_at, anonymous),
                *(str(given[item_id]) if item_id in given else "" for item_id, _ in item_keys),
                *(str(predicted[item_id]) if item_id in predicted else "" for item_id, _ in item_keys),
                neutralise(row.comment), "" if row.nps is None else str(row.nps),
            ]


GAP_COLUMNS = (
    "survey", "group_by", "group", "level", "key", "name", "dimension", "perspective", "n", "suppressed", "mean",
    "sd", "ci_low", "ci_high", "top_box", "gap", "gap_ci_low", "gap_ci_high", "gap_p", "gap_p_adjusted",
    "top_box_gap", "calibration",
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
            _number(gap.p) if gap else "", _number(gap.p_adjusted) if gap else "",
            _number(gap.top_box_gap) if gap else "",
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
