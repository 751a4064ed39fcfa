"""No small difference (DESIGN section 2, "Privacy"), tried as the threat model's curious insider
would: any filters, any two times. Answers are published in batches of MIN_N per (survey, team,
staff member served, perspective, consent to contact), dated by their last answer (perception/insights/publication.py),
so no two reports may differ in any cell by 1 to MIN_N - 1 respondents."""

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from perception.accounts.service import create_api_token
from perception.core.models import PERSPECTIVES, Answer, Response, utcnow
from perception.reports import service as report_cells
from perception.reports.batch_service import BULK, group_of, publish_dated
from perception.reports.queries import gap_report, waiting_answers
from tests.helpers import (
    answers_for,
    bank_items,
    csrf_token,
    login,
    make_invitation,
    make_responses,
    make_survey,
    make_team,
    make_user,
    open_link,
    post_form,
)

MIN_N = 5
MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")


def cell_counts(report):
    """{cell: n} of a Gap JSON: every perspective on every dimension and item, and the
    respondents behind each perspective's care index."""
    found = {}
    for level in ("dimensions", "items"):
        for row in report[level]:
            for perspective in PERSPECTIVES:
                found[(level, row["key"], perspective)] = row[perspective]["n"]
    for perspective, n in report["respondents"].items():
        found[("respondents", perspective)] = n
    return found


def small_differences(reports, min_n=MIN_N):
    """[(label a, label b, cell, n a, n b)] for every pair of reports with a cell whose n differs by
    1 to min_n - 1 (a missing cell counts as n = 0)."""
    found = []
    for (label_a, a), (label_b, b) in itertools.combinations(reports.items(), 2):
        for cell in a.keys() | b.keys():
            difference = abs(a.get(cell, 0) - b.get(cell, 0))
            if 0 < difference < min_n:
                found.append((label_a, label_b, cell, a.get(cell, 0), b.get(cell, 0)))
    return found


def month_ranges(months):
    bounds = [None, *months]
    return [(start, end) for start in bounds for end in bounds
            if start is None or end is None or start <= end]


def lattice(survey, teams, months):
    """{(team, from, to): cell counts} of gap_report over every team (and none) and period."""
    return {
        (team.name if team else None, start, end): cell_counts(
            gap_report(survey, team=team, month_from=start, month_to=end).to_dict())
        for team in (None, *teams) for start, end in month_ranges(months)
    }


def api_lattice(client, token, survey, teams, months):
    reports = {}
    for team in (None, *teams):
        for start, end in month_ranges(months):
            query = {key: value for key, value in (("team", team.name if team else None), ("from", start),
                                                   ("to", end)) if value}
            answer = client.get(f"/api/v1/surveys/{survey.slug}/gap", query_string=query,
                                headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            reports[(team.name if team else None, start, end)] = cell_counts(answer.get_json())
    return reports


def moment_in(month, rng):
    year, number = map(int, month.split("-"))
    return datetime(year, number, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), tzinfo=UTC)


def seed_history(seed=13):
    """Three teams, their staff (two serve customers by name), leaders with and without a team,
    over four months; every answer written in order of submission, as the app would receive them."""
    rng = random.Random(seed)
    survey = make_survey("attack", items=bank_items(4))
    teams = [make_team(name) for name in ("North", "South", "East")]
    staff = {team.name: [make_user("staff", team=team) for _ in range(2)] for team in teams}
    planned = []
    for month in MONTHS:
        for team in teams:
            for served in (None, *staff[team.name]):
                planned += [("customer", team, served, moment_in(month, rng)) for _ in range(rng.randint(0, 8))]
    for team, count in zip(teams, (7, 3, 11), strict=True):
        planned += [("staff", team, None, moment_in(rng.choice(MONTHS), rng)) for _ in range(count)]
    planned += [("leader", None, None, moment_in(rng.choice(MONTHS), rng)) for _ in range(6)]
    planned += [("leader", teams[0], None, moment_in(rng.choice(MONTHS), rng)) for _ in range(2)]
    for perspective, team, served, moment in sorted(planned, key=lambda plan: plan[3]):
        make_responses(survey, 1, perspective=perspective, team=team, staff=served, submitted_at=moment,
                       scores={item: rng.randint(1, 5) for item in survey.items},
                       predictions={item: rng.randint(1, 5) for item in survey.items} if perspective == "staff"
                       else None)
    return survey, teams, staff


def test_the_checker_finds_a_small_difference():
    assert small_differences({"a": {"x": 42}, "b": {"x": 41}}) == [("a", "b", "x", 42, 41)]
    assert small_differences({"a": {"x": 10}, "b": {"x": 5}, "c": {}}) == []
    assert small_differences({"a": {"x": 3}, "b": {}}) == [("a", "b", "x", 3, 0)]


def test_no_two_reports_of_the_filter_lattice_differ_by_fewer_than_min_n(app, db, client):
    survey, teams, _staff = seed_history()
    waiting = waiting_answers(survey)
    assert waiting["customer"] > 0 and waiting["staff"] > 0  # the data set has answers still waiting
    reports = lattice(survey, teams, MONTHS)
    assert len(reports) == 4 * len(month_ranges(MONTHS))
    assert reports[(None, None, None)][("respondents", "customer")] >= 10 * MIN_N
    assert small_differences(reports) == []
    # The API answers the same figures (and so the same differences) as the function.
    token = create_api_token(make_user("leader", email="curious@example.com"), "attack")[1]
    assert api_lattice(client, token, survey, teams, MONTHS) == reports


def test_the_published_figures_count_whole_batches_of_each_group(app, db):
    survey, _teams, _staff = seed_history(seed=7)
    r = Response.__table__.c
    groups = db.session.execute(
        select(r.team_id, r.staff_id, r.perspective, func.count(), func.count(r.published_at))
        .where(r.survey_id == survey.id).group_by(r.team_id, r.staff_id, r.perspective)
    ).all()
    for *_group, total, published in groups:
        assert published == total - total % MIN_N
    # A batch is dated by its last answer, and nobody waits behind a later answer of their group.
    for *group, _total, _published in groups:
        rows = db.session.execute(
            select(r.submitted_at, r.published_at).where(
                r.survey_id == survey.id, r.perspective == group[2],
                r.team_id.is_(None) if group[0] is None else r.team_id == group[0],
                r.staff_id.is_(None) if group[1] is None else r.staff_id == group[1])
            .order_by(r.submitted_at, r.id)
        ).all()
        for start in range(0, len(rows) - len(rows) % MIN_N, MIN_N):
            batch = rows[start:start + MIN_N]
            assert {published for _at, published in batch} == {max(at for at, _published in batch)}
        assert all(published is None for _at, published in rows[len(rows) - len(rows) % MIN_N:])


def submit_as_customer(app, survey, team, staff, score):
    _invitation, token = make_invitation(survey, team, staff=staff)
    customer = app.test_client()
    open_link(customer, token)
    data = answers_for(survey.items, score=score) | {"csrf_token": csrf_token(customer, "/s/answer")}
    assert customer.post("/s/answer", data=data).status_code == 303


def test_one_more_answer_changes_nothing_until_its_batch_is_complete(app, db, client, runner):
    survey, teams, _staff = seed_history(seed=21)
    north = teams[0]
    newcomer = make_user("staff", team=north)  # serves customers from now on: a group of its own
    months = (*MONTHS, utcnow().strftime("%Y-%m"))
    token = create_api_token(make_user("leader", email="watcher@example.com"), "watch")[1]
    before = lattice(survey, teams, months)
    waiting_before = client.get(f"/api/v1/surveys/{survey.slug}/gap",
                                headers={"Authorization": f"Bearer {token}"}).get_json()["waiting"]
    for answered in range(1, MIN_N + 1):
        submit_as_customer(app, survey, north, newcomer, score=1 + answered % 5)
        after = lattice(survey, teams, months)
        answer = client.get(f"/api/v1/surveys/{survey.slug}/gap", headers={"Authorization": f"Bearer {token}"})
        waiting = answer.get_json()["waiting"]
        both = {("before", *key): value for key, value in before.items()}
        both |= {("after", *key): value for key, value in after.items()}
        assert small_differences(both) == []
        if answered < MIN_N:
            assert after == before, f"one report changed after {answered} answer(s)"
            assert waiting["customer"] == waiting_before["customer"] + answered
        else:
            changed = {key: value for key, value in after.items() if value != before[key]}
            assert changed, "the complete batch entered no figure"
            for key, counts in changed.items():
                assert key[0] in (None, "North")
                assert counts[("respondents", "customer")] - before[key][("respondents", "customer")] == MIN_N
            assert waiting["customer"] == waiting_before["customer"]
    assert runner.invoke(args=["report-cells", "--check"]).exit_code == 0


def test_a_published_staff_rating_can_no_longer_change(app, db):
    items = bank_items(4)
    survey = make_survey("rated", items=items)
    team = make_team("North")
    first, *others = [make_user("staff", team=team) for _ in range(MIN_N)]
    page = f"/staff/surveys/{survey.slug}"
    ratings = answers_for(items, 4, "item") | answers_for(items, 3, "predict")

    client = app.test_client()
    login(client, first)
    post_form(client, page, ratings)
    text = client.get(page).get_data(as_text=True)
    assert "waits for its group of 5" in text and "1 of 5 staff ratings of your team are in" in text
    # Not published yet: still the person's own to change.
    assert post_form(client, page, answers_for(items, 2, "item") | answers_for(items, 3, "predict"),
                     follow_redirects=True).status_code == 200
    own = db.session.execute(select(Response).where(Response.user_id == first.id)).scalar_one()
    assert {answer.score for answer in own.answers} == {2}

    for colleague in others:
        colleague_client = app.test_client()
        login(colleague_client, colleague)
        post_form(colleague_client, page, ratings)
    db.session.expire_all()
    assert db.session.get(Response, own.id).published_at is not None
    staff_n = gap_report(survey).to_dict()["dimensions"][0]["staff"]["n"]
    assert staff_n == MIN_N

    refused = post_form(client, page, answers_for(items, 5, "item") | answers_for(items, 5, "predict"),
                        follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "Your rating is now part of the published figures and can no longer change." in text
    assert "Save my changes" not in text
    db.session.expire_all()
    scores = db.session.execute(select(Answer.score).where(Answer.response_id == own.id)).scalars().all()
    assert set(scores) == {2}
    assert gap_report(survey).to_dict()["dimensions"][0]["staff"]["n"] == staff_n
    assert report_cells.drift(db.session, survey.id) == {}


def test_import_publishes_whole_batches_and_says_what_waits(app, db, runner, tmp_path):
    items = bank_items(4)
    survey = make_survey("imported", items=items)
    header = "perspective,team,submitted_at," + ",".join(item.key for item in items)
    start = datetime(2026, 1, 30, 12, tzinfo=UTC)
    rows = [f"customer,North,{(start + timedelta(days=index)).isoformat()}," + ",".join("3" for _ in items)
            for index in range(7)]
    path = tmp_path / "answers.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(args=["import-responses", str(path), "--survey", survey.slug, "--create-teams"])
    assert result.exit_code == 0, result.output
    assert "2 answer(s) of the survey wait for their group of 5" in result.output
    report = gap_report(survey, by="month").to_dict()
    # The batch of the first five answers (30 Jan - 3 Feb) is dated by its last one: February.
    assert [(group["month"], group["respondents"]["customer"]) for group in report["groups"]] == [("2026-02", 5)]
    assert report_cells.drift(db.session, survey.id) == {}


@pytest.mark.parametrize("perspective", ["customer", "leader"])
def test_dashboard_says_how_many_answers_wait_and_why(app, db, perspective):
    survey = make_survey("told", items=bank_items(4))
    team = make_team("North")
    make_responses(survey, 7, perspective=perspective, team=team)
    leader = make_user("leader")
    client = app.test_client()
    login(client, leader)
    text = client.get(f"/leaders/surveys/{survey.slug}/dashboard").get_data(as_text=True)
    noun = "customer answers" if perspective == "customer" else "leader ratings"
    assert f"2 {noun} wait for their group of 5 before they count" in text
    assert "five at a time, so nobody&#39;s answers can be picked out by comparing two reports" in text


def test_many_groups_read_the_waiting_answers_from_the_index_of_waiting_answers(app, db):
    """publish_dated reads the unpublished answers of many groups (an import's chunk). On SQLite each
    read must come from the partial index of unpublished rows: one select for all the groups was
    answered, depending on the planner's mood, from the survey's whole index by submission time or by
    team, published rows included, so each chunk of an import read every row written before it (a
    150,000-row import spent 9 of its 28 s there)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan (PostgreSQL takes one select for many groups, planned by its statistics)")
    app.config["MIN_N"] = 5
    survey = make_survey()
    teams = [make_team(f"Branch {index}") for index in range(BULK)]
    for team in teams:
        make_responses(survey, 7, team=team)  # 5 published, 2 waiting
    seen = []

    def remember(_connection, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        connection = db.session.connection()
        groups = [group_of(survey.id, team.id, None, "customer", False) for team in teams]
        assert publish_dated(connection, groups) == {}
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    reads = [(text, values) for text, values in seen if "published_at IS NULL" in text]
    assert len(reads) == BULK
    for statement, parameters in reads:
        plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        assert plan.startswith(tuple(f"SEARCH responses USING {kind}INDEX ix_responses_unpublished "
                                     for kind in ("", "COVERING "))), plan


def test_answers_given_without_consent_are_batched_among_themselves(app, db, client):
    """A customer who allowed contact has their answers shown one by one with who they are (timeline,
    follow-up, webhooks). In a batch of five where four had allowed it, the rows and figures of the batch
    less those four gave away the fifth, who had not (the tenth session's attacker's read). So answers
    with and without consent are batched apart: every batch of answers given without consent is five
    people who did not allow contact."""
    from tests.loop_helpers import invite_and_answer

    team = make_team("Harbour Street")
    survey = make_survey(teams=[team])
    admin = make_user("admin")
    token = create_api_token(admin, "rows")[1]

    def published_rows():
        body = client.get(f"/api/v1/surveys/{survey.slug}/responses", headers={"Authorization": f"Bearer {token}"})
        return body.get_json()["responses"]

    def answer(index, consent):
        invite_and_answer(app.test_client(), survey, team, score=5, email=f"c{index}@example.org",
                          consent=consent, comment=f"{consent} {index}")

    for index in range(4):
        answer(index, "yes")
    answer(4, "no")
    assert published_rows() == []  # four with consent and one without: no batch of either yet
    assert waiting_answers(survey)["customer"] == 5
    for index in range(5, 9):
        answer(index, "no")
    assert sorted(row["comment"] for row in published_rows()) == [f"no {index}" for index in (4, 5, 6, 7, 8)]
    answer(9, "yes")
    assert len(published_rows()) == 10 and waiting_answers(survey)["customer"] == 0
    with_consent = db.session.execute(select(func.count()).select_from(Response).where(
        Response.contact_consent.is_(True), Response.published_at.is_not(None))).scalar_one()
    assert with_consent == 5


def test_an_erased_customer_stays_in_the_batch_of_the_consent_they_answered_with(app, db):
    """An erasure clears the consent to contact (nobody may be contacted or shown any more), but the
    answer was shown by name while it waited: it stays in the group of answers given with consent
    (responses.answered_with_consent), so no batch of answers given without consent holds it, and the
    four waiting without consent do not become a batch of five with it (a review's finding)."""
    from perception.followups.erasure_service import erase_customer
    from tests.loop_helpers import invite_and_answer

    team = make_team("Harbour Street")
    survey = make_survey(teams=[team])
    for index in range(4):
        invite_and_answer(app.test_client(), survey, team, score=5, email=f"n{index}@example.org", consent="no")
    invite_and_answer(app.test_client(), survey, team, score=5, email="r@example.org", consent="yes")
    erase_customer("r@example.org", "test")
    rows = db.session.execute(select(Response.contact_consent, Response.answered_with_consent,
                                     Response.published_at)).all()
    assert sorted((bool(a), bool(b), c is None) for a, b, c in rows) == [(False, False, True)] * 4 + [
        (False, True, True)]
    invite_and_answer(app.test_client(), survey, team, score=5, email="n4@example.org", consent="no")
    published = db.session.execute(select(Response.answered_with_consent).where(
        Response.published_at.is_not(None))).scalars().all()
    assert len(published) == 5 and not any(published)


def test_answers_that_skip_an_item_wait_for_a_batch_of_answers_that_skip_the_same(app, db):
    """Found by two reviews: a batch of five where one customer skipped an item (an import may leave
    a score empty) changed the item's figures by four people and its dimension's by five, and
    2 x (the dimension's sum) - (its two items' sums) was the one answer the others lacked; a figure
    over fewer than MIN_N answers (a care index) also passed the batches. Each batch now holds answers
    of one pattern: the items answered, the items predicted, the recommendation given or not."""
    rng = random.Random(5)
    items = bank_items(4)
    survey = make_survey("partial", items=items)
    team = make_team("North")
    answered = (items, items[1:], items[:3], items[:1])
    for month in MONTHS:
        for _ in range(18):
            perspective = rng.choice(("customer", "customer", "staff"))
            make_responses(survey, 1, perspective=perspective, team=team, submitted_at=moment_in(month, rng),
                           scores={item: rng.randint(1, 5) for item in rng.choice(answered)},
                           predictions=dict.fromkeys(rng.choice(answered), 3) if perspective == "staff" else None,
                           nps=rng.choice((None, 8)) if perspective == "customer" else None)
    reports = lattice(survey, [team], MONTHS)
    assert reports[(None, None, None)][("respondents", "customer")] >= 4 * MIN_N
    assert small_differences(reports) == []
    # Within one report too: every count is whole batches, so no two cells differ by 1 to MIN_N - 1.
    assert {n % MIN_N for report in reports.values() for n in report.values()} == {0}
    assert waiting_answers(survey)["customer"] > 0


def test_the_reviewers_case_one_skipped_item_among_ten_answers(app, db):
    items = bank_items(4)
    survey = make_survey("skipped", items=items)
    team = make_team("North")
    make_responses(survey, 9, team=team, scores=dict.fromkeys(items, 4))
    make_responses(survey, 1, team=team, scores=dict.fromkeys(items[1:], 1))  # skipped the first item
    report = gap_report(survey, team=team).to_dict()
    counts = {(level, row["key"]): row["customer"]["n"] for level in ("dimensions", "items") for row in report[level]}
    assert set(counts.values()) == {MIN_N}  # one batch of five full answers; four more and the one wait
    assert waiting_answers(survey)["customer"] == 5


def test_an_import_batches_each_pattern_apart_across_its_chunks(app, db, runner, tmp_path, monkeypatch):
    """The import forms its batches before it writes (csv_import), from the rows' own patterns: the same
    batches as the answers stored one by one."""
    from perception.responses import csv_import

    monkeypatch.setattr(csv_import, "CHUNK", 3)
    items = bank_items(4)
    survey = make_survey("imported-partly", items=items)
    header = "perspective,team,submitted_at,nps," + ",".join(item.key for item in items)
    start = datetime(2026, 1, 3, 12, tzinfo=UTC)
    rows = []
    for index in range(23):  # every third skips the first item; every fourth gives no recommendation
        scores = ["" if index % 3 == 0 and position == 0 else "4" for position in range(len(items))]
        rows.append(",".join(["customer", "North", (start + timedelta(hours=index)).isoformat(),
                              "" if index % 4 == 0 else "7", *scores]))
    path = tmp_path / "partly.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(args=["import-responses", str(path), "--survey", survey.slug, "--create-teams"])
    assert result.exit_code == 0, result.output
    r = Response.__table__.c
    published = db.session.execute(select(r.id).where(r.published_at.is_not(None)).order_by(r.id)).scalars().all()
    # Rows by (skipped an item, no recommendation): 11 neither, 6 skipped only, 4 no recommendation only, 2 both.
    kinds = [(index % 3 == 0, index % 4 == 0) for index in range(23)]
    expected_published = sum(kinds.count(kind) // MIN_N * MIN_N for kind in set(kinds))
    assert len(published) == expected_published == 15
    report = gap_report(survey).to_dict()
    assert {row["customer"]["n"] % MIN_N for level in ("dimensions", "items") for row in report[level]} == {0}
    assert report_cells.drift(db.session, survey.id) == {}
