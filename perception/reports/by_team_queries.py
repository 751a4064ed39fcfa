"""The teams of a by-team gap report, and for a large chain their figures read in chunks of teams
on a second connection while the groups already read are worked out (core/background_reads.py).

A chain of 2,000 teams has some 100,000 moment rows in its by-team report. Read at once, Python
waits for all of them before it computes a single figure; read CHUNK_TEAMS teams at a time, the
database adds up the next chunk's cells while Python computes the figures of the last
(`perception.insights.build_gap_report` takes the groups as they come). The whole-survey figures
are read first, from the roll-up of all teams, in the same snapshot: the by-team report's top level
is the whole-survey report, as with the one-statement path of `queries.gap_report`.
"""

import contextlib
import json

from sqlalchemy import func, select

from perception.core.background_reads import read_in_background
from perception.core.extensions import db
from perception.core.models import ReportCell, Team, survey_teams
from perception.reports.moments_queries import EMPTY_INPUT, group_inputs, moments_statement

STREAM_FROM_TEAMS = 300  # from this many teams a by-team report is read in chunks
STREAM_DIALECTS = frozenset({"postgresql", "sqlite"})
# Python's sqlite3 lets go of the interpreter lock while SQLite steps to the next row and takes it
# back for each row: beside the busy main thread every row waited for its turn, and reading a chunk's
# rows one by one measured 20-45 % slower than the one statement. SQLite therefore hands each chunk
# over as one row, its moment rows packed into one JSON array (`packed`): the database adds up a
# whole chunk while the interpreter lock is free, and json.loads unpacks it in C.
PACKED_DIALECTS = frozenset({"sqlite"})
CHUNK_TEAMS = 250  # measured on 2,000 teams: 4 to 16 chunks of a chain all read about as fast


def team_candidates(survey_id):
    """[(team id, name, listed even without answers)] of every team, by name: a by-team report lists
    the survey's scope (every team when the scope is empty), plus any team with answers in it. An
    archived team stays where it has answers (its history), and only there."""
    rows = db.session.execute(
        select(Team.id, Team.name, survey_teams.c.team_id, Team.archived_at)
        .outerjoin(survey_teams, (survey_teams.c.team_id == Team.id) & (survey_teams.c.survey_id == survey_id))
        .order_by(Team.name, Team.id)
    ).all()
    scoped = any(in_scope is not None for _id, _name, in_scope, _archived in rows)
    return [(team_id, name, archived_at is None and (not scoped or in_scope is not None))
            for team_id, name, in_scope, archived_at in rows]


def worth_streaming(candidates):
    """Whether a by-team report of these teams (team_candidates) is read in chunks in the background."""
    return len(candidates) >= STREAM_FROM_TEAMS and db.engine.dialect.name in STREAM_DIALECTS


def listed(candidates, answered):
    """(name, team id) of the candidates a by-team report lists, given the team ids with answers."""
    return [(name, team_id) for team_id, name, always in candidates if always or team_id in answered]


def streamed_team_groups(survey_id, candidates, keys, month_from=None, month_to=None):
    """(the whole survey's GroupInput, an iterator of (team name, GroupInput) in report order) of a
    by-team report, read in chunks in the background. `keys` is a moments_queries.ReportKeys."""
    team_id = ReportCell.__table__.c.team_id
    chunks = [candidates[start:start + CHUNK_TEAMS] for start in range(0, len(candidates), CHUNK_TEAMS)]
    statements = [moments_statement(survey_id, month_from=month_from, month_to=month_to)]
    statements += [
        moments_statement(survey_id, by="team", month_from=month_from, month_to=month_to)
        .where(team_id.in_([candidate[0] for candidate in chunk]))
        for chunk in chunks
    ]
    if db.engine.dialect.name in PACKED_DIALECTS:
        reads = unpacked(read_in_background(db.engine, [packed(statement) for statement in statements]))
    else:
        reads = read_in_background(db.engine, statements)
    overall = group_inputs(next(reads), keys).get(0, EMPTY_INPUT)

    def groups():
        with contextlib.closing(reads):  # closing the groups early stops the reader
            for chunk, rows in zip(chunks, reads, strict=True):
                data = group_inputs(rows, keys)
                for label, key in listed(chunk, data):
                    yield label, data.get(key, EMPTY_INPUT)

    return overall, groups()


def packed(statement):
    """One row, one column: the rows of `statement` as a JSON array of arrays (SQLite's JSON1)."""
    rows = statement.subquery()
    return select(func.json_group_array(func.json_array(*rows.c)))


def unpacked(reads):
    """The rows of each `packed` statement read, as lists in the columns' order."""
    with contextlib.closing(reads):
        for rows in reads:
            yield json.loads(rows[0][0])
