"""The report cells stay in step with the published answers on every way answers are written or
changed, and reports read from them give what the answers say (perception/reports/service.py).
Answers are published in batches of MIN_N, so the data here comes in whole batches."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from perception.core.extensions import db as _db
from perception.core.models import Answer, PredictedAnswer, ReportCell, Response, Survey
from perception.demo.service import seed_demo
from perception.insights.publication import batches
from perception.reports import batch_service, tally_service
from perception.reports import service as report_cells
from perception.reports.histogram_queries import collect, histogram_statement
from perception.reports.queries import gap_report
from perception.responses import csv_import
from perception.responses.csv_import import import_responses
from perception.responses.service import RatingPublished, save_self_assessment
from tests.helpers import (
    answers_for,
    bank_items,
    csrf_token,
    make_invitation,
    make_responses,
    make_survey,
    make_team,
    make_user,
    open_link,
)

MARCH = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
MIN_N = 5  # the batch size: answers enter the cells (and every figure) MIN_N at a time per group


def assert_in_step(survey_id):
    assert report_cells.drift(_db.session, survey_id) == {}


def test_the_demo_is_counted_in_its_cells(app, db):
    seed_demo()
    surveys = list(_db.session.execute(select(Survey.id)).scalars())
    assert surveys
    for survey_id in surveys:
        assert report_cells.cell_total(_db.session, survey_id) > 0
        assert_in_step(survey_id)


def test_a_customer_submit_is_counted_once(app, db, client):
    survey = make_survey(items=bank_items(6))
    for _ in range(MIN_N):  # a whole batch: answers enter the figures MIN_N at a time
        _invitation, token = make_invitation(survey)
        open_link(client, token)
        data = answers_for(survey.items, score=2) | {"csrf_token": csrf_token(client, "/s/answer")}
        assert client.post("/s/answer", data=data).status_code == 303
        client.post("/s/answer", data=data)  # a double click: the same form again
        assert_in_step(survey.id)
    assert gap_report(survey, min_n=1).to_dict()["dimensions"][0]["customer"]["n"] == MIN_N


def test_staff_edits_move_answers_between_cells(app, db):
    items = bank_items(6)
    survey = make_survey(items=items)
    staff = make_user("staff")
    save_self_assessment(survey, staff, {item.id: 5 for item in items}, {item.id: 4 for item in items})
    assert_in_step(survey.id)
    # Change some scores, drop an answer and a prediction, add nothing new (still waiting for its batch).
    save_self_assessment(survey, staff, {item.id: 2 for item in items[:4]}, {items[0].id: 1})
    assert_in_step(survey.id)
    response = _db.session.execute(select(Response).where(Response.user_id == staff.id)).scalar_one()
    assert {answer.score for answer in response.answers} == {2}
    for _ in range(MIN_N - 1):  # colleagues of the same team complete the batch
        save_self_assessment(survey, make_user("staff", team=staff.team), {item.id: 2 for item in items[:4]},
                             {items[0].id: 1})
        assert_in_step(survey.id)
    report = gap_report(survey, min_n=1).to_dict()
    staff_means = [row["staff"]["mean"] for row in report["dimensions"] if row["staff"]["n"]]
    assert staff_means and set(staff_means) == {2.0}
    with pytest.raises(RatingPublished):  # published: a change would show as one person's difference
        save_self_assessment(survey, staff, {item.id: 5 for item in items}, {})


def test_orm_changes_deletes_and_moves_are_followed(app, db):
    items = bank_items(4)
    north, south = make_team("North"), make_team("South")
    survey, other = make_survey(items=items), make_survey(slug="wave-2", items=items)
    response = Response(survey=survey, perspective="customer", team=north, submitted_at=MARCH,
                        answers=[Answer(item_id=item.id, score=3) for item in items])
    staff = Response(survey=survey, perspective="staff", team=north, submitted_at=MARCH,
                     answers=[Answer(item_id=item.id, score=4) for item in items],
                     predictions=[PredictedAnswer(item_id=item.id, score=2) for item in items])
    _db.session.add_all([response, staff])
    _db.session.commit()
    # Each completes a batch with earlier answers of its group, so both count (and so move cells).
    make_responses(survey, MIN_N - 1, team=north, submitted_at=MARCH, scores=4)
    make_responses(survey, MIN_N - 1, perspective="staff", team=north, submitted_at=MARCH, scores=4,
                   predictions=dict.fromkeys(items, 3))  # predicting what `staff` predicts: one batch
    assert _db.session.get(Response, response.id).published_at is not None
    assert_in_step(survey.id)

    response.answers[0].score = 1                      # a score changes
    response.answers.remove(response.answers[1])       # an answer goes
    response.team = south                              # the response moves team ...
    response.submitted_at = datetime(2026, 5, 2, tzinfo=UTC)  # ... and month
    staff.predictions[0].score = 5
    _db.session.commit()
    assert_in_step(survey.id)

    response.survey = other                            # ... and even survey
    _db.session.commit()
    assert_in_step(survey.id)
    assert_in_step(other.id)

    _db.session.delete(staff)
    _db.session.commit()
    assert_in_step(survey.id)
    assert all(row["staff"]["n"] == MIN_N - 1 for row in gap_report(survey, min_n=1).to_dict()["dimensions"])


def test_a_rolled_back_write_leaves_the_cells_alone(app, db):
    items = bank_items(4)
    survey = make_survey(items=items)
    _db.session.add(Response(survey=survey, perspective="customer", submitted_at=MARCH,
                             answers=[Answer(item_id=item.id, score=4) for item in items]))
    _db.session.flush()
    _db.session.rollback()
    assert report_cells.cell_total(_db.session, survey.id) == 0
    assert_in_step(survey.id)


def test_an_import_is_counted(app, db):
    items = bank_items(4)
    survey = make_survey(items=items)
    header = "perspective,team,submitted_at," + ",".join(item.key for item in items)
    rows = [f"customer,Harbour Street,2026-0{1 + index % 3}-10T10:00:00Z," + ",".join(
        str(1 + (index + position) % 5) for position in range(len(items))) for index in range(30)]
    rows.append("leader,,2026-02-01T00:00:00+02:00," + ",".join("5" for _ in items))  # no team; January in UTC
    import_responses(io.BytesIO(("\n".join([header, *rows]) + "\n").encode()), survey, create_teams=True)
    assert_in_step(survey.id)
    assert gap_report(survey, min_n=1, by="month").to_dict()["groups"][0]["month"] == "2026-01"


@pytest.mark.parametrize("bulk", [1, 10**6], ids=["one-select-for-many-groups", "one-select-per-group"])
def test_an_import_counted_in_python_equals_the_cells_of_the_answers(app, db, monkeypatch, bulk):
    """The import counts its cells from the scores it writes (perception/reports/tally_service.py):
    across chunks and partial writes of the counter, with predictions, unanswered items, rows with and
    without a team, and batches completed by answers stored before the import."""
    monkeypatch.setattr(csv_import, "CHUNK", 4)
    monkeypatch.setattr(tally_service, "LIMIT", 7)
    monkeypatch.setattr(batch_service, "BULK", bulk)
    items = bank_items(4)
    survey = make_survey(items=items)
    team = make_team("Harbour Street")
    make_responses(survey, 3, team=team, submitted_at=MARCH)  # waiting: the import completes their batch
    make_responses(survey, 2, perspective="staff", team=team, submitted_at=MARCH, predictions={items[0]: 2})
    keys = [item.key for item in items]
    header = ",".join(["perspective", "team", "submitted_at", *keys, *(f"predicted:{key}" for key in keys)])
    rows = []
    # Responses are batched with those that answered and predicted the same items (publication.py): a
    # few such patterns, each with rows enough to complete batches, the stored ones' pattern among them.
    for index in range(150):
        perspective = ("customer", "staff", "leader")[index % 3]
        blank = index % 5  # this item is left empty (4: none is)
        scores = [str(1 + (index * (position + 2)) % 5) if position != blank else "" for position in range(4)]
        predicted = [str(1 + (index + position) % 5) if perspective == "staff" and (position == 0 or index % 2) else ""
                     for position in range(4)]
        rows.append(",".join([perspective, ("Harbour Street", "", "Quay")[index % 3 if index % 2 else 0],
                              f"2026-0{1 + index % 4}-{10 + index % 7}T10:00:00Z", *scores, *predicted]))
    import_responses(io.BytesIO(("\n".join([header, *rows]) + "\n").encode()), survey, create_teams=True)
    assert report_cells.cell_total(_db.session, survey.id) > 0
    assert_in_step(survey.id)
    stored_before = _db.session.scalars(select(Response.published_at).where(
        Response.survey_id == survey.id, Response.channel == "import", Response.respondent.is_(None),
        Response.submitted_at == MARCH)).all()
    assert len(stored_before) == 5 and all(stored_before)  # counted by the SQL, beside the import's own


def test_an_import_publishes_what_writing_and_publishing_chunk_by_chunk_publishes(app, db, monkeypatch):
    """The import forms a chunk's batches before writing its rows (each row is written once, with its
    date): the batches are those of writing the chunk and then publishing its groups, in submission
    order and then id, with the responses waiting from before the import and from earlier chunks;
    rows in no order of time, ties of time, and groups whose batches span chunks."""
    monkeypatch.setattr(csv_import, "CHUNK", 7)
    items = bank_items(2)
    survey = make_survey(items=items)
    team = make_team("Harbour Street")
    stored = make_responses(survey, 3, team=team, submitted_at=lambda index: MARCH.replace(day=10 + 2 * index))
    waiting = [(response.id, response.submitted_at, (team.id, "customer")) for response in stored]
    header = "perspective,team,submitted_at," + ",".join(item.key for item in items)
    lines, rows = [], []
    for index in range(40):
        perspective = ("customer", "staff")[index % 5 == 4]
        team_name = ("Harbour Street", "")[index % 3 == 2]
        moment = MARCH.replace(day=1 + (index * 11) % 28, hour=index % 2)  # shuffled, with ties
        lines.append(f"{perspective},{team_name},{moment.isoformat()},3,4")
        rows.append((moment, (team.id if team_name else None, perspective)))
    import_responses(io.BytesIO(("\n".join([header, *lines]) + "\n").encode()), survey)

    imported = _db.session.execute(select(Response.id).where(Response.survey_id == survey.id, Response.id.not_in(
        [response.id for response in stored])).order_by(Response.id)).scalars().all()
    assert len(imported) == len(rows)
    expected = {}
    for start in range(0, len(rows), 7):  # the model: write a chunk, then publish its groups
        chunk = [(response_id, moment, group) for response_id, (moment, group) in
                 zip(imported[start:start + 7], rows[start:start + 7], strict=True)]
        waiting += chunk
        for group in {group for _id, _at, group in chunk}:
            pending = sorted(((at, response_id) for response_id, at, of in waiting if of == group))
            for stamp, ids in batches([(response_id, at) for at, response_id in pending], MIN_N):
                expected.update(dict.fromkeys(ids, stamp))
        waiting = [entry for entry in waiting if entry[0] not in expected]
    published = dict(_db.session.execute(select(Response.id, Response.published_at).where(
        Response.survey_id == survey.id, Response.published_at.is_not(None))).all())
    assert published == expected
    assert len(expected) > 20 and waiting  # batches formed, and some rows still wait
    assert_in_step(survey.id)


def test_reports_from_the_cells_equal_reports_from_the_answers(app, db):
    """The cells summed by a report give exactly the histograms the answers give, for every
    grouping and filter the report offers."""
    seed_demo()
    survey = _db.session.execute(select(Survey).order_by(Survey.id)).scalars().first()
    from perception.reports.histogram_queries import cells_statement

    r = Response.__table__
    for by in (None, "team", "month"):
        from_answers = collect(_db.session.execute(histogram_statement([r.c.survey_id == survey.id], by=by)))
        from_cells = collect(_db.session.execute(cells_statement(survey.id, by=by)))
        if by == "team":  # the cells key "no team" as 0, the answers as NULL
            from_answers = {key or 0: value for key, value in from_answers.items()}
        assert from_cells == from_answers, by


def test_roll_up_cells_equal_the_answers_for_every_filter(app, db):
    """The roll-ups (every team, every month, both) kept beside the team-and-month cells give the
    histograms the answers give, whatever team, months and grouping a report asks for."""
    seed_demo()
    survey = _db.session.execute(select(Survey).order_by(Survey.id)).scalars().first()
    from perception.core.database import utc_month
    from perception.reports.histogram_queries import ALL_MONTHS, ALL_TEAMS, cells_statement

    r = Response.__table__
    months = sorted(_db.session.execute(select(ReportCell.month).distinct().where(
        ReportCell.survey_id == survey.id, ReportCell.month != ALL_MONTHS)).scalars())
    team_id = _db.session.execute(select(ReportCell.team_id).where(
        ReportCell.survey_id == survey.id, ReportCell.team_id > 0)).scalars().first()
    assert len(months) > 2 and team_id
    assert _db.session.execute(select(ReportCell).where(ReportCell.team_id == ALL_TEAMS)).first()
    for by in (None, "team", "month"):
        for team in (None, team_id):
            for first, last in ((None, None), (months[1], None), (None, months[1]), (months[1], months[-2])):
                conditions = [r.c.survey_id == survey.id]
                if team is not None:
                    conditions.append(r.c.team_id == team)
                if first is not None:
                    conditions.append(utc_month(r.c.published_at) >= first)
                if last is not None:
                    conditions.append(utc_month(r.c.published_at) <= last)
                from_answers = collect(_db.session.execute(histogram_statement(conditions, by=by)))
                if by == "team":
                    from_answers = {key or 0: value for key, value in from_answers.items()}
                from_cells = collect(_db.session.execute(cells_statement(
                    survey.id, by=by, team_id=team, month_from=first, month_to=last)))
                assert from_cells == from_answers, (by, team, first, last)
    assert_in_step(survey.id)


def test_the_command_checks_and_rebuilds(app, db, runner):
    items = bank_items(4)
    survey = make_survey(items=items)
    make_responses(survey, MIN_N, submitted_at=MARCH, scores=4)
    assert runner.invoke(args=["report-cells", "--check"]).exit_code == 0
    # An operator's hand edit in SQL, past the app:
    _db.session.execute(Answer.__table__.update().values(score=1))
    _db.session.commit()
    checked = runner.invoke(args=["report-cells", "--check", "--survey", survey.slug])
    assert checked.exit_code == 1 and "cells differ" in checked.output
    rebuilt = runner.invoke(args=["report-cells", "--survey", survey.slug])
    assert rebuilt.exit_code == 0 and "in step" in rebuilt.output
    assert_in_step(survey.id)


@pytest.mark.parametrize("perspective", ["customer", "staff"])
def test_answers_to_items_outside_the_survey_are_not_counted(app, db, perspective):
    items = bank_items(6)
    survey = make_survey(items=items[:3])
    for _ in range(MIN_N):
        _db.session.add(Response(survey=survey, perspective=perspective, submitted_at=MARCH,
                                 answers=[Answer(item_id=item.id, score=5) for item in items],
                                 predictions=[PredictedAnswer(item_id=item.id, score=5) for item in items]
                                 if perspective == "staff" else []))
    _db.session.commit()
    assert_in_step(survey.id)
    item_rows = _db.session.execute(select(ReportCell.subject_id).where(ReportCell.kind == 1)).scalars().all()
    assert set(item_rows) == {item.id for item in items[:3]}


def test_batches_published_past_the_orm_equal_the_cells_counted_from_the_answers(app, db):
    """The submit path and import write with Core statements and call report_cells.publish for the
    groups they wrote to; the cells of the batches it publishes must be what the SQL definition
    counts, and every group keeps fewer than MIN_N answers of each pattern (what they answered and
    predicted: perception/insights/publication.py) waiting."""
    import random

    from sqlalchemy import func, insert

    items = bank_items()
    survey = make_survey(items=items[:12])
    team = make_team("East")
    rng = random.Random(8)
    connection = _db.session.connection()
    patterns = (items[:12], items[2:7], ())  # every item, some, none
    for number in range(200):
        perspective = rng.choice(["customer", "staff", "leader"])
        scores = {item.id: rng.randint(1, 5) for item in rng.choice(patterns)}
        predictions = {item.id: rng.randint(1, 5) for item in rng.choice(patterns[:2])}
        moment = datetime(2026, 1 + number % 12, 28, 23, 59, tzinfo=UTC)
        team_id = team.id if number % 3 else None
        response_id = connection.execute(insert(Response).returning(Response.id), [{
            "survey_id": survey.id, "perspective": perspective, "team_id": team_id, "submitted_at": moment,
            "channel": "import"}]).scalar_one()
        for model, values in ((Answer, scores), (PredictedAnswer, predictions if perspective == "staff" else {})):
            if values:
                connection.execute(insert(model), [{"response_id": response_id, "item_id": item_id, "score": score}
                                                   for item_id, score in values.items()])
        report_cells.publish(connection, [report_cells.group_of(survey.id, team_id, None, perspective, False)])
    _db.session.commit()
    assert report_cells.cell_total(_db.session, survey.id) > 0
    assert_in_step(survey.id)
    r = Response.__table__.c
    answered = select(func.count()).where(Answer.response_id == r.id).scalar_subquery()
    predicted = select(func.count()).where(PredictedAnswer.response_id == r.id).scalar_subquery()
    waiting = _db.session.execute(select(func.count()).where(r.published_at.is_(None))
                                  .group_by(r.team_id, r.perspective, answered, predicted)).scalars().all()
    assert waiting and max(waiting) < MIN_N
    assert _db.session.execute(select(func.count()).where(r.published_at.is_not(None))).scalar_one() > 100
