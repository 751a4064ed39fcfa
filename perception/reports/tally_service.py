"""Report cells counted in Python for a bulk write (the CSV import), instead of by the SQL of
`histogram_queries.histogram_statement` once per published batch.

Why: an import already holds every score it writes; re-reading them with the histogram statement
took more than half of the import's time. The counts here are the same definition, written out
for the rows of one survey (a test compares them with a fresh rebuild, `service.drift`):
- per published response, in its team (0 for none) and UTC month of publication: one RESPONSES
  row; per answered survey item an ITEM row (score, 1); per dimension with an answered item a
  DIMENSION row (sum, count); when anything was answered an OVERALL row (sum, count over all
  dimensions); for staff the same for their predictions (PREDICTED_ITEM, PREDICTED_DIMENSION);
- each of those also in the roll-ups (ALL_TEAMS, ALL_MONTHS and both), added up when written.

A tally keeps the scores of the rows it wrote until their batch is published (fewer than MIN_N per
group wait, so this does not grow with the file), counts the published ones per team-and-month
cell, and writes the counts with their roll-ups once it holds LIMIT cells and at the end (so memory
stays bounded). Each write of a cell costs the database an index update whether it adds 1 or 100:
held until the end, a cell is written once however many rows of the file fall in it (a file in no
particular order touches most of its cells in every part of it). Responses published by the import
that it did not write (answers stored before the import that a new row completes a batch with) are
counted by the SQL (`service.add`). Nothing reads the cells inside the import's transaction before
`flush`.

A cell key is one int (the `_FIELDS` below, side by side in its bits): hashed, added and compared
in C, a third of the memory of a tuple, and in the order of SQLite's covering index when sorted.
"""

from collections import Counter

from sqlalchemy import select

from perception.core.models import Item, survey_items
from perception.reports import service
from perception.reports.histogram_queries import (
    ALL_MONTHS,
    ALL_TEAMS,
    DIMENSION,
    ITEM,
    OVERALL,
    PREDICTED_DIMENSION,
    PREDICTED_ITEM,
    RESPONSES,
)

# Team-and-month cells held before they are written (some 50 MB). Each write after the first adds to
# cells already written (upserts into a larger table, and the roll-ups again): `python -m
# bench.bench_import`, 50,000 rows over 200 teams (430,000 cells, so one write at this limit, two at
# 250,000): 9,330 rows a second against 8,070, peak memory growth 77 against 84 MB; 150,000 rows over
# 2,000 teams (the limit reached, sparse cells): 4,180 against 3,530 rows a second, for 200 against
# 150 MB of growth, the same at 300,000 rows (flat in the file's size).
LIMIT = 500_000
# SQLite's page cache while a tally writes (KiB; its default is 2 MB): the cells' indexes of a large
# import do not fit in 2 MB, and every cell written then reads its pages back from the file
# (32 MB measured twice as fast on a 20,000-row import).
SQLITE_CACHE_KIB = 32_768  # 64 MB measured no faster, and grew with the file up to its size

# The bits of a cell key, lowest first: (name, width). Sorted as ints, keys follow SQLite's
# covering index ix_report_cells_by_month (survey, month, kind, team, perspective, subject,
# answered, score_sum). The widths hold every value the columns can (integer ids below 2**31; a
# dimension's answered items and their sum below 2**16). Month 0 is ALL_MONTHS and team 0 is
# ALL_TEAMS (a team is stored as its id - ALL_TEAMS: "no team" 0 as 1), so both sort first, as in
# the index.
_FIELDS = (("score_sum", 16), ("answered", 16), ("subject", 32), ("perspective", 2), ("team", 32), ("kind", 3),
           ("month", 17))
_SHIFT = {}
_bits = 0
for _name, _width in _FIELDS:
    _SHIFT[_name] = _bits
    _bits += _width
_TEAM_BITS = ((1 << 32) - 1) << _SHIFT["team"]
_MONTH_BITS = ((1 << 17) - 1) << _SHIFT["month"]
# Keeping all bits but the team's (month's, both) turns a cell's key into its roll-up's.
_ROLL_UPS = tuple(~mask for mask in (_TEAM_BITS, _MONTH_BITS, _TEAM_BITS | _MONTH_BITS))
_PERSPECTIVES = ("customer", "leader", "staff")  # in the order of their text, as the index sorts them
_PERSPECTIVE_CODE = {name: code for code, name in enumerate(_PERSPECTIVES)}
_LOW = (1 << _SHIFT["perspective"]) - 1

# Plain text, past SQLAlchemy: the driver's executemany (SQLite) or COPY and one statement (PostgreSQL).
SQLITE_UPSERT = (
    "INSERT INTO report_cells (survey_id, month, kind, team_id, perspective, subject_id, answered, score_sum, "
    "respondents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered) "
    "DO UPDATE SET respondents = report_cells.respondents + excluded.respondents"
)
# PostgreSQL: the counts are copied into a temporary table (COPY: no per-row statement, no large
# parameter arrays in memory), then added in one statement in the key order of every writer
# (service's statements), so that concurrent transactions lock shared cells in the same order.
POSTGRESQL_INCREMENTS = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS report_cell_increments (month varchar(7), kind integer, "
    "team_id integer, perspective varchar(10), subject_id integer, answered integer, score_sum integer, "
    "respondents integer) ON COMMIT DROP"
)
POSTGRESQL_COPY = ("COPY report_cell_increments (month, kind, team_id, perspective, subject_id, answered, score_sum, "
                   "respondents) FROM STDIN")
POSTGRESQL_UPSERT = (
    "INSERT INTO report_cells (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered, "
    "respondents) SELECT %(survey_id)s::integer, team_id, month, perspective, kind, subject_id, score_sum, answered, "
    "respondents FROM report_cell_increments "
    "ORDER BY team_id, month, perspective, kind, subject_id, score_sum, answered "
    "ON CONFLICT (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered) "
    "DO UPDATE SET respondents = report_cells.respondents + excluded.respondents"
)


def dimensions_of(connection, survey_id):
    """{item id: dimension id} of the survey's items (answers to other items count in no cell)."""
    i = Item.__table__.c
    return dict(connection.execute(
        select(i.id, i.dimension_id).join(survey_items, survey_items.c.item_id == i.id)
        .where(survey_items.c.survey_id == survey_id)).all())


def _tail(kind, subject, score_sum, answered):
    """The kind, subject and histogram bits of a cell key."""
    return ((kind << _SHIFT["kind"]) | (subject << _SHIFT["subject"]) | (answered << _SHIFT["answered"])
            | (score_sum << _SHIFT["score_sum"]))


def _place(team_id, month_code, perspective):
    """The team, month and perspective bits of a cell key (team as stored: 0 for none, or ALL_TEAMS)."""
    return ((month_code << _SHIFT["month"]) | ((team_id - ALL_TEAMS) << _SHIFT["team"])
            | (_PERSPECTIVE_CODE[perspective] << _SHIFT["perspective"]))


def _month_text(code):
    return ALL_MONTHS if code == 0 else f"{(code - 1) // 12:04d}-{(code - 1) % 12 + 1:02d}"


class _Scores:
    """The cell tails of one kind of scores (answers or predictions) of a survey's items."""

    def __init__(self, dimension_of, kind_item, kind_dimension):
        self.item = {item_id: (dimension, _tail(kind_item, item_id, 0, 1))
                     for item_id, dimension in dimension_of.items()}
        self.dimension = {dimension: _tail(kind_dimension, dimension, 0, 0) for dimension in dimension_of.values()}

    def tails(self, scores, into):
        """Add the tails of `scores` ([(item id, score)]) to `into`; (their sum, their count)."""
        per_dimension = {}
        item = self.item
        for item_id, score in scores:
            found = item.get(item_id)
            if found is None:
                continue
            dimension, tail = found
            into.append(tail + score)
            sums = per_dimension.get(dimension)
            if sums is None:
                per_dimension[dimension] = [score, 1]
            else:
                sums[0] += score
                sums[1] += 1
        total = count = 0
        dimension_tail, answered = self.dimension, _SHIFT["answered"]
        for dimension, (dimension_sum, dimension_count) in per_dimension.items():
            into.append(dimension_tail[dimension] + (dimension_count << answered) + dimension_sum)
            total += dimension_sum
            count += dimension_count
        return total, count


class CellTally:
    """Cell increments of the responses a bulk write makes in one survey (see the module's doc)."""

    def __init__(self, session, survey_id):
        self.session, self.connection, self.survey_id = session, session.connection(), survey_id
        dimension_of = dimensions_of(self.connection, survey_id)
        self.answers = _Scores(dimension_of, ITEM, DIMENSION)
        self.predictions = _Scores(dimension_of, PREDICTED_ITEM, PREDICTED_DIMENSION)
        self.waiting = {}  # response id -> (team id or 0, perspective, answers, predictions), unpublished
        self.counts = Counter()  # team-and-month cell key -> respondents
        self.cache_size = None
        if self.connection.dialect.name == "sqlite":
            self.cache_size = self.connection.exec_driver_sql("PRAGMA cache_size").scalar()
            self.connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def close(self):
        """Give the connection its page cache back (before the commit or rollback: the connection is
        the session's until then)."""
        if self.cache_size is not None:
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {int(self.cache_size)}")
            self.cache_size = None

    def written(self, response_id, team_id, perspective, answers, predictions):
        """A response written by the bulk write (answers, predictions: [(item id, score)])."""
        self.waiting[response_id] = (team_id or 0, perspective, answers, predictions)

    def published(self, dated):
        """Count responses just published ({response id: published_at}, of this survey)."""
        others, keys = [], []
        responses, overall = _tail(RESPONSES, 0, 0, 0), _tail(OVERALL, 0, 0, 0)
        for response_id, stamp in dated.items():
            entry = self.waiting.pop(response_id, None)
            if entry is None:
                others.append(response_id)
                continue
            team, perspective, answers, predictions = entry
            tails = [responses]
            total, count = self.answers.tails(answers, tails)
            if count:
                tails.append(overall + _tail(0, 0, total, count))
            if perspective == "staff" and predictions:
                self.predictions.tails(predictions, tails)
            # published_at is UTC (UTCDateTime); the roll-ups are added when written (flush).
            place = _place(team, stamp.year * 12 + stamp.month, perspective)
            keys.extend(map(place.__add__, tails))  # the bits do not overlap: + is |
        self.counts.update(keys)  # counted in C, not in a Python loop
        if others:
            service.add(self.session, self.survey_id, others)
        if len(self.counts) >= LIMIT:
            self.flush()

    def flush(self):
        """Write the counted increments and their roll-ups into the report cells."""
        if not self.counts:
            return
        cells, self.counts = self.counts, Counter()
        roll_ups = {}
        get = roll_ups.get
        for key, respondents in cells.items():
            for mask in _ROLL_UPS:
                rolled = key & mask
                roll_ups[rolled] = get(rolled, 0) + respondents
        cells.update(roll_ups)  # a roll-up's team or month bits are 0, a team-and-month cell's never
        del roll_ups
        postgresql = self.connection.dialect.name == "postgresql"
        rows = self._rows(cells, () if postgresql else (self.survey_id,))
        if postgresql:
            self.connection.exec_driver_sql(POSTGRESQL_INCREMENTS)
            with self.connection.connection.driver_connection.cursor() as cursor:
                with cursor.copy(POSTGRESQL_COPY) as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(POSTGRESQL_UPSERT, {"survey_id": self.survey_id})
                cursor.execute("TRUNCATE report_cell_increments")
            return
        # SQLite holds one writer at a time (no lock order to keep); in the order of the covering
        # index ix_report_cells_by_month its pages are written in sequence, which measured twice as
        # fast as the primary key's order.
        # The driver's own cursor takes the rows one at a time (SQLAlchemy's executemany wants a list).
        cursor = self.connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(SQLITE_UPSERT, rows)
        finally:
            cursor.close()

    @staticmethod
    def _rows(cells, head):
        """(*head, month, kind, team_id, perspective, subject_id, answered, score_sum, respondents)
        of each cell, in key order, one at a time."""
        places = {}  # the high bits (month, kind, team, perspective) -> their columns
        shift = _SHIFT["perspective"]
        for key in sorted(cells):
            high = key >> shift
            place = places.get(high)
            if place is None:
                month = high >> (_SHIFT["month"] - shift)
                kind = (high >> (_SHIFT["kind"] - shift)) & 7
                team = ((high >> (_SHIFT["team"] - shift)) & 0xFFFFFFFF) + ALL_TEAMS
                place = places[high] = (*head, _month_text(month), kind, team, _PERSPECTIVES[high & 3])
            low = key & _LOW
            yield (*place, low >> 32, (low >> 16) & 0xFFFF, low & 0xFFFF, cells[key])
