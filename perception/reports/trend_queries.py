"""The care gap across waves (issue #16, DESIGN section 3 `trend`): the one function behind
`flask trend`, GET /api/v1/trend, the leaders' trend page and the digest mail.

Each wave's figures are its gap report with the same filters (`perception.reports.queries.gap_report`,
the function of `flask gap --json`): `dimensions`, `care_index` and `respondents` are copied from
that report's JSON unchanged, so they are exactly `gap --survey SLUG [--team NAME] --json`, under the
same privacy rules (DESIGN section 2). Beside them each wave carries its response rate (invitations
answered / sent, as the funnel counts it) and, from the second wave on, the change since the
previous wave (perception.insights.trend): per dimension the customers' mean (Welch's test on the
two waves' customer summaries) and the staff - customer gap (a Welch-type test over the four
samples), each with its 95% interval and p-value, plus plain differences of the delivery gap, the
care index per perspective and the response rate. A change that involves a withheld figure is null.

Waves are the surveys that are not drafts, in order of opening (`opens_at`, then creation), that
cover the team (a wave scoped to no team covers every team) and, for a user, that they may see.
Without a team filter the document also holds one series per team (within the user's scope), taken
from each wave's report grouped by team (`gap --by team --json`'s `groups`), so the complementary
suppression across teams holds in the trend too: the whole business minus one team never reveals a
small team (DESIGN section 2, "No small difference"). With a team filter the one series is
`gap --team NAME` of each wave (a single group needs no complement).

Every p-value of the document is adjusted together (Benjamini-Hochberg, perception.insights):
`p` is the raw value, `p_adjusted` the adjusted one; the sentence uses the adjusted ones.
"""

from sqlalchemy import func, select

from perception.accounts.queries import all_teams
from perception.accounts.scope import own_team, scoped_teams, sees_survey
from perception.charts.trend import care_index_chart, dimension_slopes, team_multiples
from perception.core.extensions import db
from perception.core.models import Invitation, Survey
from perception.insights import benjamini_hochberg, difference, gap_change, mean_change
from perception.reports.queries import batch_size, gap_report
from perception.reports.trend_sentence import SIGNIFICANCE, trend_sentence

PERSPECTIVES = ("customer", "staff", "leader")


def _opening_order(survey):
    opened = survey.opens_at.timestamp() if survey.opens_at else 0
    return (survey.opens_at is None, opened, survey.created_at, survey.id)


def trend_surveys(user=None, prefix=None):
    """The waves (non-draft surveys) `user` may see (every one without a user), in order of opening."""
    query = select(Survey).where(Survey.status != "draft")
    if prefix:
        query = query.where(Survey.slug.startswith(prefix, autoescape=True))
    surveys = db.session.execute(query).scalars().all()
    return sorted((s for s in surveys if user is None or sees_survey(user, s)), key=_opening_order)


def covers(survey, team):
    return team is None or not survey.teams or any(member.id == team.id for member in survey.teams)


def invitation_counts(survey_ids):
    """{(survey id, team id): (sent, answered)} of the invitations of these surveys, in one query."""
    if not survey_ids:
        return {}
    rows = db.session.execute(
        select(Invitation.survey_id, Invitation.team_id, func.count(Invitation.sent_at),
               func.count(Invitation.answered_at))
        .where(Invitation.survey_id.in_(survey_ids)).group_by(Invitation.survey_id, Invitation.team_id)
    )
    return {(survey_id, team_id): (int(sent), int(answered)) for survey_id, team_id, sent, answered in rows}


def response_rate(counts, survey_id, team):
    """Answered / sent (the funnel's response rate) of a survey, of one team or all; None before a mail went out."""
    pairs = [value for (sid, tid), value in counts.items()
             if sid == survey_id and (team is None or tid == team.id)]
    sent = sum(sent for sent, _ in pairs)
    return sum(answered for _, answered in pairs) / sent if sent else None


def _wave(survey, report, rate):
    body = report.to_dict()
    return {
        "survey": survey.slug, "title": survey.title, "status": survey.status,
        "opens_at": survey.opens_at.isoformat() if survey.opens_at else None,
        "dimensions": body["dimensions"], "care_index": body["care_index"], "respondents": body["respondents"],
        "response_rate": rate, "change": None,
    }


def _dimension_change(before, after):
    """The change of one dimension between two CellReports of the same key."""
    return {
        "key": after.key, "name": after.name,
        "customer_mean": mean_change(before.customer, after.customer).to_dict(),
        "gap": gap_change(before.gap.value, (before.staff, before.customer),
                          after.gap.value, (after.staff, after.customer)).to_dict(),
        "top_box_gap": difference(before.gap.top_box_gap, after.gap.top_box_gap),
    }


def _change(previous, current):
    (before_survey, before, before_rate), (_survey, after, after_rate) = previous, current
    earlier = {cell.key: cell for cell in before.dimensions}
    return {
        "since": before_survey.slug,
        "care_index": {p: difference(before.care_index.get(p), after.care_index.get(p)) for p in PERSPECTIVES},
        "response_rate": difference(before_rate, after_rate),
        # A dimension the previous wave did not ask has nothing to compare with.
        "dimensions": [_dimension_change(earlier[cell.key], cell) for cell in after.dimensions if cell.key in earlier],
    }


def _series(computed):
    """Waves with their changes from [(survey, report, rate)] in order of opening."""
    waves = [_wave(*entry) for entry in computed]
    for index in range(1, len(computed)):
        waves[index]["change"] = _change(computed[index - 1], computed[index])
    return waves


def wave_series(surveys, team, counts, min_n=None):
    """The waves of `surveys` covering `team` (None: the whole business), each with its change."""
    return _series([(survey, gap_report(survey, team=team, min_n=min_n), response_rate(counts, survey.id, team))
                    for survey in surveys if covers(survey, team)])


def team_series(surveys, teams, counts, min_n=None):
    """(whole-business waves, {team id: waves}). Each team's figures are its group of one by-team report
    per wave, complementary suppression included; the whole business's are the ungrouped report, so
    that they equal `gap --json` to the last key (its p-values are adjusted over its own tests)."""
    reports = {survey.id: gap_report(survey, by="team", min_n=min_n) for survey in surveys}
    whole = wave_series(surveys, None, counts, min_n)
    per_team = {}
    for team in teams:
        computed = []
        for survey in surveys:
            group = next((group for group in reports[survey.id].groups if group.label == team.name), None)
            if covers(survey, team) and group is not None:
                computed.append((survey, group, response_rate(counts, survey.id, team)))
        per_team[team.id] = _series(computed)
    return whole, per_team


def _tests(document):
    """Every tested change of the document (dicts holding "p"), in a fixed order."""
    series = [document["waves"], *(entry["waves"] for entry in document["teams"])]
    for waves in series:
        for wave in waves:
            for dimension in (wave["change"] or {}).get("dimensions", ()):
                yield dimension["customer_mean"]
                yield dimension["gap"]


def adjust(document):
    """Benjamini-Hochberg over every p-value of the document: `p_adjusted` beside each `p`."""
    tests = list(_tests(document))
    for test, adjusted in zip(tests, benjamini_hochberg([test["p"] for test in tests]), strict=True):
        test["p_adjusted"] = adjusted
    document["tests"] = sum(test["p"] is not None for test in tests)


def trend_report(*, user=None, team=None, prefix=None, min_n=None):
    """The trend document: {"min_n", "filters", "waves": [...], "teams": [{"team", "waves"}],
    "tests", "significance", "sentence"}. `user` limits the waves and teams to their scope and
    forces a team's leader to their team; `team` (a Team) filters every figure."""
    if user is not None and own_team(user) is not None:
        team = own_team(user)
    surveys = trend_surveys(user, prefix)
    counts = invitation_counts([survey.id for survey in surveys])
    document = {
        "min_n": min_n or batch_size(),
        "filters": {"team": team.name if team is not None else None, "survey_prefix": prefix or None},
        "waves": [],
        "teams": [],
    }
    if team is None:
        teams = scoped_teams(user, all_teams()) if user is not None else all_teams()
        document["waves"], per_team = team_series(surveys, teams, counts, min_n)
        document["teams"] = [{"team": member.name, "waves": per_team[member.id]} for member in teams]
    else:
        document["waves"] = wave_series(surveys, team, counts, min_n)
    adjust(document)
    document["significance"] = SIGNIFICANCE
    document["sentence"] = trend_sentence(document)
    return document


def trend_page(user, team=None):
    """The leaders' trend page: the document (within `user`'s scope) and its charts."""
    document = trend_report(user=user, team=team)
    label = document["filters"]["team"] or "the whole business"
    charts = [care_index_chart(document, document["waves"], label), dimension_slopes(document, document["waves"])]
    if document["teams"]:
        charts.append(team_multiples(document))
    return document, charts
