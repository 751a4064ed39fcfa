"""The dashboard's team list for a chain of any size: every team's care index per perspective and
its care gap (staff minus customers, in care-index points), the teams with the largest (or
smallest) gaps in size first, searched by name and read a page at a time.

The figures are those of the by-team gap report (`gap_report(by="team")`'s groups: the same teams,
the same cells, the same suppression, complementary suppression across all teams included), but
only its care index is computed: the report cells of kind OVERALL are summed per team (the
roll-ups over all months when no period is chosen, perception/reports/service.py), and
`perception.insights.build_gap_report` runs without dimensions or items, so 2,000 teams cost a
small fraction of a full by-team report. Search and paging happen after the suppression, which
therefore never depends on what a leader searched for.
"""

import math
from dataclasses import dataclass

from perception.accounts.team_service import name_key
from perception.core.extensions import db
from perception.insights import GroupInput, build_gap_report
from perception.reports.histogram_queries import OVERALL, Histograms, cells_statement, collect
from perception.reports.queries import batch_size, team_groups

ORDERS = ("gap-desc", "gap-asc", "name")
PER_PAGE = 20


@dataclass(frozen=True)
class TeamRow:
    """One team. A care index is None when withheld (fewer than min_n respondents, or hidden to
    protect a small team); `gap` is None when either side is."""

    name: str
    customers: int
    staff: int
    customer_index: float | None
    staff_index: float | None
    gap: float | None


@dataclass(frozen=True)
class TeamPage:
    rows: list
    matching: int  # teams whose name matches the search
    teams: int  # every team of the report
    page: int
    pages: int
    order: str
    search: str


def _by_name(row):
    # The name itself breaks ties between names of one key ("Malaga" and "Málaga"): the same order every time.
    return name_key(row.name), row.name


def _ordered(rows, order):
    if order == "name":
        return sorted(rows, key=_by_name)
    shown = [row for row in rows if row.gap is not None]
    withheld = sorted((row for row in rows if row.gap is None), key=_by_name)
    # A gap's size, whichever side rates higher, as the headline's and the digest's "largest gap": staff
    # rating care 25 points below their customers is as far apart as 25 points above, not "smaller" than 0.
    shown.sort(key=lambda row: (-abs(row.gap) if order == "gap-desc" else abs(row.gap), *_by_name(row)))
    return shown + withheld  # teams without a gap to show come last, by name


def rows_of(report):
    """[TeamRow] of the groups of a by-team GapReport, in report order."""
    rows = []
    for group in report.groups:
        customer, staff = group.care_index["customer"], group.care_index["staff"]
        rows.append(TeamRow(
            name=group.label, customers=group.respondents["customer"], staff=group.respondents["staff"],
            customer_index=customer, staff_index=staff,
            gap=staff - customer if customer is not None and staff is not None else None,
        ))
    return rows


def team_rows(survey, *, team=None, month_from=None, month_to=None, min_n=None):
    """[TeamRow] of every team of the by-team report, in report order (by name), computing the
    care index alone (two statements)."""
    statement = cells_statement(survey.id, by="team", team_id=team.id if team is not None else None,
                                month_from=month_from, month_to=month_to, kinds=[OVERALL])
    data = collect(db.session.execute(statement).all())
    groups = team_groups(survey.id, team, data)
    inputs = [(label, GroupInput(overall_scores=dict(data.get(key, Histograms()).overall))) for label, key in groups]
    return rows_of(build_gap_report(survey=survey.slug, dimensions=[], items=[], overall=GroupInput(),
                                    min_n=min_n or batch_size(), group_by="team", groups=inputs))


def page_of(rows, *, search="", order="gap-desc", page=1, per_page=PER_PAGE):
    """One page of the team list: matching `search` (part of the name, compared by `name_key`: case,
    accents, Unicode forms and runs of white space do not matter), in `order` (ORDERS: largest gap
    first, smallest gap first, in size whichever side rates higher, or by name). A page past the
    last shows the last."""
    order = order if order in ORDERS else "gap-desc"
    needle = name_key(search)
    matching = [row for row in rows if needle in name_key(row.name)] if needle else rows
    ordered = _ordered(matching, order)
    pages = max(1, math.ceil(len(ordered) / per_page))
    page = min(max(1, page or 1), pages)
    start = (page - 1) * per_page
    return TeamPage(rows=ordered[start:start + per_page], matching=len(ordered), teams=len(rows), page=page,
                    pages=pages, order=order, search=(search or "").strip())


def team_page(survey, *, team=None, month_from=None, month_to=None, **paging):
    """page_of(team_rows(...)): one page of the team list of a survey."""
    return page_of(team_rows(survey, team=team, month_from=month_from, month_to=month_to), **paging)
