"""The by-team report of a large chain, read in chunks of teams on a second connection
(perception/reports/by_team_queries.py, perception/core/background_reads.py): the same report, to
the last key and bit, as the one-statement path, and the reads see one snapshot."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from perception.core.background_reads import read_in_background
from perception.core.models import Response
from perception.reports import by_team_queries
from perception.reports.queries import gap_report
from tests.helpers import make_survey, make_team
from tests.reports.test_reports import KEYS, add_responses, fresh
from tests.reports_support import items_by_key


@pytest.fixture
def chain(db):
    """Seven teams, each a different case: large, small (suppressed, and a neighbour hidden with it
    by complementary suppression), none, archived with answers, outside the scope with answers;
    staff and team-less leaders besides."""
    names = ("Alder", "Birch", "Cedar", "Damson", "Elm", "Fir", "Gorse")
    teams = {name: make_team(name) for name in names}
    survey = make_survey("chain", items=items_by_key(db, KEYS), teams=[teams[name] for name in names[:6]])
    for name, count, seed in (("Alder", 30, 1), ("Birch", 5, 2), ("Cedar", 10, 3), ("Damson", 15, 4),
                              ("Fir", 20, 5), ("Gorse", 10, 6)):
        add_responses(db, survey, count, team=teams[name], seed=seed)
    add_responses(db, survey, 10, team=teams["Alder"], perspective="staff", seed=7)
    add_responses(db, survey, 10, team=teams["Damson"], perspective="staff", seed=8)
    add_responses(db, survey, 5, team=None, perspective="leader", seed=9)
    teams["Fir"].archived_at = datetime(2026, 7, 1, tzinfo=UTC)
    db.session.commit()
    return survey


def _both_ways(monkeypatch, db, survey, chunk, **options):
    monkeypatch.setattr(by_team_queries, "STREAM_FROM_TEAMS", 10**6)
    plain = gap_report(fresh(db, survey), by="team", **options)
    monkeypatch.setattr(by_team_queries, "STREAM_FROM_TEAMS", 1)
    monkeypatch.setattr(by_team_queries, "CHUNK_TEAMS", chunk)
    streamed = gap_report(fresh(db, survey), by="team", **options)
    return plain, streamed


@pytest.mark.parametrize("chunk", [1, 2, 3, 250])
def test_streamed_report_equals_the_one_statement_report(monkeypatch, db, chain, chunk):
    plain, streamed = _both_ways(monkeypatch, db, chain, chunk, min_n=6)
    assert streamed.to_dict() == plain.to_dict()
    report = streamed.to_dict()
    groups = {group["team"]: group for group in report["groups"]}
    # Scope plus teams with answers; the archived team keeps its history; Elm has none but is in scope.
    assert list(groups) == ["Alder", "Birch", "Cedar", "Damson", "Elm", "Fir", "Gorse"]
    first = {name: group["dimensions"][0]["customer"] for name, group in groups.items()}
    assert first["Birch"]["suppressed"] and first["Birch"]["n"] == 5
    # Birch (5) alone is under min_n 6: the smallest shown team (Cedar, 10; Gorse ties later) goes too.
    assert first["Cedar"]["suppressed"] and not first["Gorse"]["suppressed"]
    assert report["dimensions"][0]["leader"]["n"] == 5  # team-less leaders: whole survey only
    assert report["dimensions"][0]["customer"]["n"] == 90
    assert any(cell["gap"]["p_adjusted"] is not None for group in report["groups"] for cell in group["items"])


def test_streamed_report_with_month_bounds(monkeypatch, db, chain):
    plain, streamed = _both_ways(monkeypatch, db, chain, 2, month_from="2026-02", month_to="2026-05")
    assert streamed.to_dict() == plain.to_dict()
    assert streamed.to_dict()["filters"] == {"team": None, "by": "team", "from": "2026-02", "to": "2026-05"}


def test_a_failing_read_is_raised_to_the_caller(monkeypatch, db, chain):
    monkeypatch.setattr(by_team_queries, "STREAM_FROM_TEAMS", 1)
    monkeypatch.setattr(by_team_queries, "CHUNK_TEAMS", 2)
    original = by_team_queries.moments_statement
    calls = []

    def broken_after_two(*args, **kwargs):
        calls.append(1)
        statement = original(*args, **kwargs)
        return statement.where(func.no_such_function(1) == 1) if len(calls) == 3 else statement

    monkeypatch.setattr(by_team_queries, "moments_statement", broken_after_two)
    with pytest.raises(Exception, match="no_such_function|no such function"):
        gap_report(fresh(db, chain), by="team")
    assert [thread for thread in threading.enumerate() if thread.name == "background-reads"] == []


def test_background_reads_see_one_snapshot(db, chain):
    """A response committed between two of the reader's statements is in neither of them."""
    count = select(func.count()).select_from(Response)
    engine, survey_id = db.engine, chain.id
    committed = []

    def statements():  # run by the reader's thread
        yield count
        with engine.begin() as other:  # another connection commits a response meanwhile
            other.execute(insert(Response).values(survey_id=survey_id, perspective="customer", channel="import",
                                                  submitted_at=datetime(2026, 6, 1, tzinfo=UTC)))
            committed.append(other.execute(count).scalar_one())
        yield count

    first, second = (rows[0][0] for rows in read_in_background(engine, statements()))
    assert first == second == committed[0] - 1
    assert db.session.execute(count).scalar_one() == first + 1


def test_closing_the_reads_early_stops_the_reader(db, chain):
    started = []

    def statements():
        for _ in range(50):
            started.append(1)
            yield select(func.count()).select_from(Response)

    reads = read_in_background(db.engine, statements())
    next(reads)
    reads.close()
    assert len(started) < 50
    assert [thread for thread in threading.enumerate() if thread.name == "background-reads"] == []


def test_a_large_chain_streams(db):
    candidates = [(number, f"Team {number}", True) for number in range(by_team_queries.STREAM_FROM_TEAMS)]
    assert by_team_queries.worth_streaming(candidates)
    assert not by_team_queries.worth_streaming(candidates[:-1])


def test_sqlite_hands_over_a_chunk_as_one_packed_row(db, chain):
    """SQLite's reader gets one row per statement (by_team_queries.PACKED_DIALECTS), which unpacks to
    the statement's own rows; PostgreSQL reads the rows themselves."""
    statement = by_team_queries.moments_statement(chain.id, by="team")
    rows = sorted(tuple(row) for row in db.session.execute(statement))
    assert len(rows) > 10
    if db.engine.dialect.name not in by_team_queries.PACKED_DIALECTS:
        assert db.engine.dialect.name == "postgresql"
        return
    (packed_rows,) = list(by_team_queries.read_in_background(db.engine, [by_team_queries.packed(statement)]))
    assert len(packed_rows) == 1
    (unpacked,) = by_team_queries.unpacked(by_team_queries.read_in_background(
        db.engine, [by_team_queries.packed(statement)]))
    assert sorted(tuple(row) for row in unpacked) == rows
