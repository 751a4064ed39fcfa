"""The gap report of a survey from its report cells (DESIGN section 2), and the plain counts and
labels the leaders' pages show beside it.

`gap_report` is the one entry point used by the CLI (`flask gap`), the dashboard and the API.
It reads the survey's structure, lets the database sum the report cells (the answers' score
histograms, perception.reports.histogram_queries) into exact moments per group, dimension or item
and number of answered items (perception.reports.moments_queries), and hands the Summaries built
from them to `perception.insights.build_gap_report`, which computes every figure and applies the
anonymity rules.

What counts:
- each response is one respondent; only answers to items of the survey count;
- filters (team, months) apply to every figure, care index and indifference rate included;
- only published answers count (in batches of MIN_N per team, staff member served and
  perspective: perception/insights/publication.py); `waiting_answers` counts the others;
- months are `YYYY-MM` of `published_at` (the batch's last answer) in UTC, `month_from`/`month_to`
  inclusive, so a period takes whole batches;
- responses without a team (e.g. leaders who belong to none) count in the whole-survey figures
  but in no team group;
- with `by="team"`: one group per team in the survey's scope (every team when the scope is
  empty), plus any other team that has responses in the survey, ordered by name; teams without
  responses are listed with n = 0 (suppressed). With a `team` filter only that team is listed;
- with `by="month"`: one group per month from the first to the last month with a response in
  the filtered data, empty months included.
"""

import re

from flask import current_app
from sqlalchemy import func, select

from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import (
    PERSPECTIVES,
    Dimension,
    Item,
    ItemVersion,
    Response,
    survey_items,
)
from perception.insights import DimensionSpec, GapReport, ItemSpec, build_gap_report, gc_paused
from perception.reports.by_team_queries import listed, streamed_team_groups, team_candidates, worth_streaming
from perception.reports.histogram_queries import item_counts_statement
from perception.reports.moments_queries import (
    EMPTY_INPUT,
    ReportKeys,
    group_inputs,
    merged_input,
    moments_statement,
)
from perception.surveys.queries import asked_version


def answer_counts(survey, *, team=None, month_from=None, month_to=None):
    """{(item key, perspective): {score: answers}} for the survey's items, in one query over the
    report cells (perception/reports/service.py)."""
    for value, field in ((month_from, "from"), (month_to, "to")):
        if value:
            parse_month(value, field)
    rows = db.session.execute(item_counts_statement(
        survey.id, team_id=team.id if team is not None else None, month_from=month_from or None,
        month_to=month_to or None,
    ))
    counts = {}
    for item_key, perspective, score, answers in rows:
        counts.setdefault((item_key, perspective), {})[int(score)] = int(answers)
    return counts


def waiting_answers(survey, *, team=None):
    """{perspective: responses waiting for their batch} of the survey, or of one team of it (they
    are in no figure yet: perception/insights/publication.py). One query."""
    r = Response.__table__.c
    conditions = [r.survey_id == survey.id, r.published_at.is_(None)]
    if team is not None:
        conditions.append(r.team_id == team.id)
    counts = dict.fromkeys(PERSPECTIVES, 0)
    for perspective, count in db.session.execute(
            select(r.perspective, func.count()).where(*conditions).group_by(r.perspective)):
        counts[perspective] = int(count)
    return counts


def waiting_in_group(survey_id, team_id, staff_id, perspective):
    """How many responses of one publication group wait for their batch (fewer than MIN_N)."""
    r = Response.__table__.c
    return db.session.execute(select(func.count()).where(
        r.survey_id == survey_id, r.perspective == perspective, r.published_at.is_(None),
        r.team_id.is_(None) if team_id is None else r.team_id == team_id,
        r.staff_id.is_(None) if staff_id is None else r.staff_id == staff_id,
    )).scalar_one()


def gap_json(report, survey, team=None):
    """The Gap JSON of DESIGN section 3 plus one top-level object, "waiting": {perspective: answers
    of the survey (of `team`) waiting for their batch}, counts only. What `flask gap --json` prints
    and GET /api/v1/surveys/<slug>/gap answers."""
    return report.to_dict() | {"waiting": waiting_answers(survey, team=team)}


def batch_size():
    """How many answers of a group enter the figures together: the app's MIN_N."""
    return current_app.config["MIN_N"]


def item_wordings(survey):
    """{item key: customer wording the survey asks} of the survey's items, in one query."""
    rows = db.session.execute(
        select(Item.key, ItemVersion.customer_text)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .join(ItemVersion, asked_version())
        .where(survey_items.c.survey_id == survey.id)
    )
    return dict(rows.all())


GROUP_BY = ("team", "month")
MONTH_RE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")  # ASCII digits: \d takes "２０２５" too


class ReportError(FieldError):
    """A report was asked with an invalid filter; `field` names the argument at fault."""


def parse_month(value, field):
    """(year, month) of a 'YYYY-MM' string, or ReportError."""
    match = MONTH_RE.fullmatch(value or "")
    if not match:
        raise ReportError(f"the {field!r} month must be written YYYY-MM (e.g. 2026-03), got {value!r}", field)
    return int(match.group(1)), int(match.group(2))


def _month_label(year_month):
    return f"{year_month[0]:04d}-{year_month[1]:02d}" if year_month is not None else None


def _next_month(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_labels(first, last):
    """Every 'YYYY-MM' from first to last inclusive."""
    labels, current, end = [], parse_month(first, "month"), parse_month(last, "month")
    while current <= end:
        labels.append(_month_label(current))
        current = _next_month(*current)
    return labels


def _structure(survey_id):
    """The survey's dimensions and items in display order, and their ids -> keys."""
    rows = db.session.execute(
        select(Item.id, Item.key, Dimension.id, Dimension.key, Dimension.name)
        .join(survey_items, survey_items.c.item_id == Item.id)
        .join(Dimension, Dimension.id == Item.dimension_id)
        .where(survey_items.c.survey_id == survey_id)
        .order_by(Dimension.position, Dimension.id, Item.position, Item.id)
    ).all()
    dimension_keys, item_keys, names, members = {}, {}, {}, {}
    for item_id, item_key, dimension_id, dimension_key, dimension_name in rows:
        item_keys[item_id] = (item_key, dimension_key)
        dimension_keys[dimension_id] = dimension_key
        names[dimension_key] = dimension_name
        members.setdefault(dimension_key, []).append(item_key)
    dimensions = [DimensionSpec(key=key, name=names[key], item_keys=tuple(members[key])) for key in members]
    items = [ItemSpec(key=key, dimension=dimension) for key, dimension in item_keys.values()]
    return dimensions, items, dimension_keys, item_keys


def team_groups(survey_id, team, data):
    """(label, group key) per team, by name: the scope (or all teams), plus teams with data."""
    if team is not None:
        return [(team.name, team.id)]
    return listed(team_candidates(survey_id), data)


def _default_min_n():
    return current_app.config["MIN_N"]


def gap_report(survey, *, team=None, by=None, month_from=None, month_to=None, min_n=None) -> GapReport:
    """The gap report of `survey` (a Survey), as computed by perception.insights.

    - team: a Team, or None for every team; filters every figure.
    - by: None, "team" or "month"; adds one group per team / month (see the module docstring).
    - month_from, month_to: "YYYY-MM" strings or None; inclusive bounds on `published_at` (UTC).
    - min_n: the anonymity threshold; None means the app's MIN_N setting.

    Raises ReportError (a ValueError with `.field` in "by", "from", "to", "min_n") for invalid
    arguments. `report.to_dict()` is the Gap JSON (DESIGN section 3); its `filters` are
    {"team": name or None, "by": by, "from": month_from, "to": month_to}.
    Runs 2 SQL statements (3 with by="team"), whatever the number of responses: the answers are
    summed from the report cells (perception/reports/service.py), not read one by one. A by-team
    report of a large chain reads them in chunks on a second connection while it works
    out the teams already read (perception/reports/by_team_queries.py).
    """
    if by is not None and by not in GROUP_BY:
        raise ReportError(f"by must be one of {', '.join(GROUP_BY)}, got {by!r}", "by")
    start = end = None
    if month_from is not None:
        start = parse_month(month_from, "from")
    if month_to is not None:
        end = parse_month(month_to, "to")
    if start is not None and end is not None and start > end:
        raise ReportError(f"the 'from' month ({month_from}) is after the 'to' month ({month_to})", "from")
    if min_n is None:
        min_n = _default_min_n()
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ReportError(f"min_n must be a whole number of at least 1, got {min_n!r}", "min_n")

    month_from, month_to = _month_label(start), _month_label(end)
    with gc_paused():  # half a million small objects for 2,000 teams (perception/insights/allocation.py)
        candidates = None
        if by == "team":
            candidates = [(team.id, team.name, True)] if team is not None else team_candidates(survey.id)
            if team is None and worth_streaming(candidates):
                return _streamed_report(survey, candidates, month_from, month_to, min_n)
        statement = moments_statement(survey.id, by=by, team_id=team.id if team is not None else None,
                                      month_from=month_from, month_to=month_to)
        return _report(survey, team, by, month_from, month_to, min_n, db.session.execute(statement).all(), candidates)


def _streamed_report(survey, candidates, month_from, month_to, min_n):
    """The by-team report of a large chain, its teams read in the background (by_team_queries)."""
    dimensions, items, dimension_keys, item_keys = _structure(survey.id)
    overall, groups = streamed_team_groups(survey.id, candidates, ReportKeys(dimension_keys, item_keys),
                                           month_from, month_to)
    return build_gap_report(
        survey=survey.slug, dimensions=dimensions, items=items, overall=overall, min_n=min_n,
        filters={"team": None, "by": "team", "from": month_from, "to": month_to}, group_by="team", groups=groups,
    )


def _report(survey, team, by, month_from, month_to, min_n, rows, candidates):
    """The GapReport of `gap_report` from the rows of its moments statement (`candidates`: the
    teams a by-team report may list, by_team_queries.team_candidates)."""
    dimensions, items, dimension_keys, item_keys = _structure(survey.id)
    data = group_inputs(rows, ReportKeys(dimension_keys, item_keys))

    groups = []
    if by == "team":
        groups = listed(candidates, data)
    elif by == "month" and data:
        groups = [(label, label) for label in _month_labels(min(data), max(data))]
    return build_gap_report(
        survey=survey.slug,
        dimensions=dimensions,
        items=items,
        overall=merged_input(data.values()),
        min_n=min_n,
        filters={"team": team.name if team is not None else None, "by": by, "from": month_from, "to": month_to},
        group_by=by,
        groups=[(label, data.get(key, EMPTY_INPUT)) for label, key in groups],
    )
