"""The dashboard's team list for a chain: the largest (or smallest) gaps first, search, paging, the
same care index as the by-team gap report, withheld teams last, no heatmap once teams are many
(perception/reports/ranking_queries.py)."""

import re
from datetime import UTC, datetime

import pytest

from perception.core.extensions import db as _db
from perception.core.models import Answer, Response
from perception.reports.queries import gap_report
from perception.reports.ranking_queries import TeamRow, page_of, team_page, team_rows
from tests.helpers import bank_items, login, make_survey, make_team, make_user
from tests.reports.test_dashboard import charts_on

TEAMS = 30
MARCH = datetime(2026, 3, 14, 9, tzinfo=UTC)


@pytest.fixture
def chain(app, db):
    """30 teams: team k's customers answer 1 + k % 5 ... so gaps differ; Branch 29 has 3 customers
    (their batch of 5 is not complete, so its figures are withheld)."""
    survey = make_survey(items=bank_items(2))
    teams = [make_team(f"Branch {index:02d}") for index in range(TEAMS)]
    for index, team in enumerate(teams):
        customers = 3 if index == TEAMS - 1 else 5
        for perspective, count, score in (("customer", customers, 1 + index % 5), ("staff", 5, 5)):
            for _ in range(count):
                _db.session.add(Response(survey=survey, perspective=perspective, team=team, submitted_at=MARCH,
                                         channel="import",
                                         answers=[Answer(item_id=item.id, score=score) for item in survey.items]))
    _db.session.commit()  # one flush: the session hook publishes every complete batch
    return survey, teams


def _names(html):
    body = html.split('id="teams"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row"><a href="[^"]*">([^<]+)</a>', body)


def test_team_list_shows_largest_gaps_first_with_paging_and_search(client, chain):
    survey, _teams = chain
    login(client, make_user("leader"))
    url = f"/leaders/surveys/{survey.slug}/dashboard"
    html = client.get(url).get_data(as_text=True)
    first_page = _names(html)
    assert len(first_page) == 20 and "Page 1 of 2." in html
    # Customers answering 1 are furthest from staff answering 5: Branch 00, 05, ... first.
    assert first_page[:6] == ["Branch 00", "Branch 05", "Branch 10", "Branch 15", "Branch 20", "Branch 25"]
    assert "teams" not in charts_on(html)  # no 30-row heatmap
    assert 'list="team-names"' in html  # a chain's team filter is typed, not a list of every branch
    next_url = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert _names(second)[-1] == "Branch 29"  # withheld (its batch is not complete): last
    assert "withheld" in second.split("Branch 29", 2)[2].split("</tr>", 1)[0]
    assert set(first_page).isdisjoint(_names(second)) and len(_names(second)) == 10
    smallest = client.get(url + "?order=gap-asc").get_data(as_text=True)
    assert _names(smallest)[:2] == ["Branch 04", "Branch 09"]  # customers answering 5: no gap
    found = client.get(url + "?q=branch+1").get_data(as_text=True)
    assert sorted(_names(found)) == [f"Branch {index}" for index in range(10, 20)]
    assert "10 of 30 teams match" in found
    assert client.get(url + "?page=0").status_code == 400  # a form error, not a 500


def test_team_list_paging_links_keep_the_filters_and_nothing_else(client, chain):
    survey, _teams = chain
    login(client, make_user("leader"))
    url = f"/leaders/surveys/{survey.slug}/dashboard"
    for extra in ("slug=other", "_method=POST", "_external=1&_scheme=javascript", "_anchor=x", "other=1"):
        response = client.get(f"{url}?order=name&from=2026-01&{extra}")
        assert response.status_code == 200, extra  # was a 500: url_for took `slug` twice, `_method` ...
        link = re.search(r'<a href="([^"]+)" rel="next">', response.get_data(as_text=True)).group(1)
        assert link == f"{url}?from=2026-01&amp;order=name&amp;page=2#teams", extra


def test_team_list_figures_are_the_by_team_reports(chain):
    survey, _teams = chain
    report = gap_report(survey, by="team")
    rows = {row.name: row for row in team_rows(survey)}
    assert len(rows) == TEAMS
    for group in report.groups:
        row = rows[group.label]
        assert (row.customer_index, row.staff_index) == (group.care_index["customer"], group.care_index["staff"])
        assert (row.customers, row.staff) == (group.respondents["customer"], group.respondents["staff"])
    page = team_page(survey, search="Branch 2", order="name", page=5, per_page=4)
    assert page.page == page.pages == 3 and page.matching == 10  # a page past the last shows the last


def _add_answers(survey, team, perspective, score):
    for _ in range(5):
        _db.session.add(Response(survey=survey, perspective=perspective, team=team, submitted_at=MARCH,
                                 channel="import",
                                 answers=[Answer(item_id=item.id, score=score) for item in survey.items]))


ZURICH = "Zu\u0308rich Hbf"  # stored decomposed: "u" and a combining diaeresis
MALAGA = "M\u00e1laga"  # stored composed


def test_team_search_and_name_order_ignore_accents_case_and_unicode_forms(client, app, db):
    survey = make_survey(items=bank_items(2))
    for name in ("Zug", ZURICH, MALAGA, "\u00c4ngelholm", "Oslo\u00a0 Sentrum"):
        team = make_team(name)
        _add_answers(survey, team, "customer", 3)
        _add_answers(survey, team, "staff", 5)
    _db.session.commit()
    login(client, make_user("leader"))
    url = f"/leaders/surveys/{survey.slug}/dashboard"
    for needle, found in (("zurich", ZURICH), ("Z\u00fcrich", ZURICH), ("ZÜRICH  hbf", ZURICH),
                          ("malaga", MALAGA), ("Ma\u0301laga", MALAGA), ("oslo sentrum", "Oslo\u00a0 Sentrum")):
        html = client.get(url, query_string={"q": needle}).get_data(as_text=True)
        assert _names(html) == [found], needle
    by_name = client.get(url, query_string={"order": "name"}).get_data(as_text=True)
    assert _names(by_name) == ["\u00c4ngelholm", MALAGA, "Oslo\u00a0 Sentrum", "Zug", ZURICH]


@pytest.mark.parametrize(("query", "field", "message", "shown"), [
    ("page=abc", "page", "Not a valid integer value.", "page 1"),
    ("page=-3", "page", "Pages start at 1.", "page 1"),
    ("page=1.5", "page", "Not a valid integer value.", "page 1"),
    ("order=bogus", "order", "Choose largest gap first, smallest gap first or by name.", "largest gap first"),
    ("q=" + "x" * 121, "q", "Keep the search to 120 characters", "every team"),
])
def test_a_wrong_team_list_argument_is_named_at_its_field_and_the_figures_stay(client, chain, query, field, message,
                                                                                shown):
    """The figures do not depend on the team list's search, order or page: a wrong one (a mangled or
    hand-edited link) is a 400 whose page still draws them, says what is wrong beside the field (drawn,
    with the error summary linking to it) and lists the teams with that field's default."""
    survey, _teams = chain
    login(client, make_user("leader"))
    response = client.get(f"/leaders/surveys/{survey.slug}/dashboard?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please correct the filters above" not in html
    assert "Care index · Customers" in html  # the headline figures
    errors = html.split(f'<ul class="field-errors" id="{field}-errors">', 1)[1].split("</ul>", 1)[0]
    assert errors.count("<li>") == 1 and message in errors
    assert 'aria-invalid="true"' in re.search(rf'<(?:input|select)[^>]*\bid="{field}"[^>]*>', html).group(0)
    assert f'<a href="#{field}">' in html  # the error summary
    assert f"the list below shows {shown}." in html
    assert _names(html)[:2] == ["Branch 00", "Branch 05"]  # the default: largest gap first, page 1


def test_a_wrong_team_list_argument_still_needs_right_months(client, chain):
    survey, _teams = chain
    login(client, make_user("leader"))
    html = client.get(f"/leaders/surveys/{survey.slug}/dashboard?page=abc&from=2026-04&to=2026-03").get_data(
        as_text=True)
    assert "The last month must not be before the first month." in html
    assert "Please correct the filters above" in html


def _show_form(html):
    return html.split('class="filters card"', 1)[1].split("</form>", 1)[0]


def test_the_filters_form_keeps_the_team_lists_search_and_order(client, chain):
    """Changing the team or months keeps the team list's search and order (as the search form keeps
    the team and months); the page starts again, and a wrong value is not carried on."""
    survey, _teams = chain
    login(client, make_user("leader"))
    url = f"/leaders/surveys/{survey.slug}/dashboard"
    form = _show_form(client.get(url + "?q=branch+1&order=name&page=2&from=2026-01").get_data(as_text=True))
    assert '<input type="hidden" name="q" value="branch 1">' in form
    assert '<input type="hidden" name="order" value="name">' in form
    assert 'name="page"' not in form
    plain = _show_form(client.get(url + "?order=bogus").get_data(as_text=True))
    assert 'type="hidden"' not in plain  # no search, and a wrong order is not carried on


@pytest.mark.pure
def test_largest_and_smallest_gap_go_by_its_size_whichever_side_rates_higher():
    """Staff 25 points below their customers are as far apart as 25 above: not "smaller" than no gap."""
    rows = [TeamRow(name, 5, 5, 50, 50 + gap, gap) for name, gap in
            (("Above", 25), ("Below", -25), ("Level", 0), ("Far below", -60), ("Slightly", 5))]
    rows.append(TeamRow("Withheld", 3, 5, None, 80, None))
    def names(order):
        return [row.name for row in page_of(rows, order=order).rows]
    assert names("gap-desc") == ["Far below", "Above", "Below", "Slightly", "Level", "Withheld"]
    assert names("gap-asc") == ["Level", "Slightly", "Above", "Below", "Far below", "Withheld"]
