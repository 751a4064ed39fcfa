"""Everything the leaders' dashboard shows for one survey and one set of filters.

All figures come from `perception.reports.gap_report` (the same function as the CLI and the
API); this module only picks the pieces and hands them to the chart builders. A fixed number
of SQL statements runs whatever the number of teams, items or responses: the team list (care
index per team, one page of it shown), two reports (the filtered survey, by team while the teams
fit a heatmap, and by month), the answer counts, the item wordings and the answers waiting for
their batch (answers enter the figures MIN_N at a time: a notice says how many wait and why).
"""

from dataclasses import dataclass, field

from perception import charts
from perception.insights import GapReport, waiting_sentence
from perception.reports.headline import Sentence, headline_sentence
from perception.reports.queries import answer_counts, batch_size, gap_report, item_wordings, waiting_answers
from perception.reports.ranking_queries import PER_PAGE, TeamPage, page_of, rows_of, team_page

HEATMAP_TEAMS = 12  # more teams to choose from: the team list alone (a heatmap of 2,000 rows reads as noise)


@dataclass(frozen=True)
class Notice:
    """An empty state: what is missing and what to do next (`endpoint` links to the next step)."""

    text: str
    link_text: str = ""
    endpoint: str = ""


@dataclass(frozen=True)
class Dashboard:
    report: GapReport
    sentence: Sentence
    charts: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    teams: TeamPage | None = None  # one page of the team list

    @property
    def filtered(self):
        filters = self.report.filters
        return any(filters.get(key) for key in ("team", "from", "to"))


def _notices(survey, report, filtered, waiting):
    counts = report.respondents
    waits = waiting_sentence(waiting, batch_size())
    waits = [Notice(waits)] if waits else []
    if filtered and not any(counts.values()):
        return [Notice("No responses match these filters. Widen the period or choose all teams."), *waits]
    notices = []
    if survey.status == "draft":
        notices.append(Notice("This wave is a draft, so nobody can answer it yet.", "Open it", "leaders.manage_survey"))
    if not counts.get("customer") and not waiting.get("customer"):
        notices.append(Notice("No customer responses yet. Invite customers: each gets a personal link to the survey."))
    if not counts.get("staff") and not waiting.get("staff"):
        notices.append(Notice("No staff self-ratings yet. Ask your staff to rate themselves: the survey is on their "
                              "“My surveys” page after they log in."))
    if not counts.get("leader") and not waiting.get("leader"):
        notices.append(Notice("No leader ratings yet.", "Rate the business", "leaders.rate"))
    return notices + waits


def build_dashboard(survey, *, team=None, month_from=None, month_to=None, search="", order="gap-desc", page=1,
                    per_page=PER_PAGE, teams_in_scope=0):
    """The dashboard of `survey` (Survey) for an optional Team and inclusive 'YYYY-MM' months;
    `search`, `order` and `page` choose the page of the team list (perception.reports.ranking_queries).
    `teams_in_scope`: how many teams the viewer may choose from (decides the heatmap).

    Raises perception.reports.ReportError for an invalid period.
    """
    filters = {"team": team, "month_from": month_from, "month_to": month_to}
    paging = {"search": search, "order": order, "page": page, "per_page": per_page}
    # The team x dimension heatmap only while it is readable. A chain reads the team list instead,
    # whose figures cost a few cells per team rather than a whole report per team.
    if teams_in_scope <= HEATMAP_TEAMS:
        report = gap_report(survey, by="team", **filters)
        teams = page_of(rows_of(report), **paging)
    else:
        report = gap_report(survey, **filters)
        teams = team_page(survey, **filters, **paging)
    monthly = gap_report(survey, by="month", **filters)
    counts = answer_counts(survey, **filters)
    wordings = item_wordings(survey)
    built = [
        charts.means_chart(report),
        charts.delivery_gap_chart(report),
        *([charts.team_heatmap(report)] if report.group_by == "team" else []),
        charts.care_trend_chart(monthly),
        charts.calibration_chart(report),
        charts.likert_chart(report, counts, wordings),
    ]
    filtered = any(filters.values())
    waiting = waiting_answers(survey, team=team)
    return Dashboard(report, headline_sentence(report), built, _notices(survey, report, filtered, waiting), teams)
