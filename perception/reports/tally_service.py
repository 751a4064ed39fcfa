"""Report cells counted in Python for a bulk write (the CSV import), instead of by the SQL of
`histogram_queries.histogram_statement` once per published batch.

Why: an import already holds every score it writes; re-reading them with the histogram statement
took more than half of the import's time. The counts here are the same definition, written out
for the rows of one survey (a test compares them with a fresh rebuild, `service.drift`):
- per published response, in its team (0 for none) and UTC month of publication: one RESPONSES
  row; per answered survey item an ITEM row (score, 1); per dimension with an answered item a
  DIMENSION row (sum, count); when anything was answered an OVERALL row (sum, count over all
  dimensions); for staff the same for their predictions (PREDICTED_ITEM, PREDICTED_DIMENSION);
- each of those also in the roll-ups (ALL_TEAMS, ALL_MONTHS and both).

A tally keeps the scores of the rows it wrote until their batch is published (fewer than MIN_N per
group wait, so this does not grow with the file), adds the published ones to a counter of cell
increments, and writes the counter with one upsert once it holds LIMIT cells and at the end (so
memory stays bounded). Responses published by the import that it did not write (answers stored
before the import that a new row completes a batch with) are counted by the SQL (`service.add`).
Nothing reads the cells inside the import's transaction before `flush`.
"""

from collections import Counter, defaultdict

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

LIMIT = 100_000  # cell increments held before they are written (some 30 MB)
# SQLite's page cache while a tally writes (KiB; its default is 2 MB): the cells' indexes of a large
# import do not fit in 2 MB, and every cell written then reads its pages back from the file
# (32 MB measured twice as fast on a 20,000-row import).
SQLITE_CACHE_KIB = 32_768  # 64 MB measured no faster, and grew with the file up to its size

# Plain text, past SQLAlchemy: the driver's executemany (SQLite) or one statement (PostgreSQL).
# SQLite: in the order of the covering index ix_report_cells_by_month (see flush).
SQLITE_UPSERT = (
    "INSERT INTO report_cells (survey_id, month, kind, team_id, perspective, subject_id, score_sum, answered, "
    "respondents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered) "
    "DO UPDATE SET respondents = report_cells.respondents + excluded.respondents"
)
# PostgreSQL: every cell in one statement from arrays (psycopg would send one statement per row),
# in the key order of every writer (service's statements), so that concurrent transactions lock
# shared cells in the same order.
POSTGRESQL_UPSERT = (
    "INSERT INTO report_cells (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered, "
    "respondents) SELECT * FROM unnest(%(survey_id)s::integer[], %(team_id)s::integer[], %(month)s::varchar[], "
    "%(perspective)s::varchar[], %(kind)s::integer[], %(subject_id)s::integer[], %(score_sum)s::integer[], "
    "%(answered)s::integer[], %(respondents)s::integer[]) "
    "AS cells (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered, respondents) "
    "ORDER BY team_id, month, perspective, kind, subject_id, score_sum, answered "
    "ON CONFLICT (survey_id, team_id, month, perspective, kind, subject_id, score_sum, answered) "
    "DO UPDATE SET respondents = report_cells.respondents + excluded.respondents"
)
_NAMES = ("survey_id", "team_id", "month", "perspective", "kind", "subject_id", "score_sum", "answered",
          "respondents")


def dimensions_of(connection, survey_id):
    """{item id: dimension id} of the survey's items (answers to other items count in no cell)."""
    i = Item.__table__.c
    return dict(connection.execute(
        select(i.id, i.dimension_id).join(survey_items, survey_items.c.item_id == i.id)
        .where(survey_items.c.survey_id == survey_id)).all())


def _scores(scores, dimension_of, kind_item, kind_dimension):
    """(cell tails (kind, subject, sum, count) of `scores`, their total sum, their count)."""
    tails, per_dimension, total, count = [], defaultdict(lambda: [0, 0]), 0, 0
    for item_id, score in scores:
        dimension = dimension_of.get(item_id)
        if dimension is None:
            continue
        tails.append((kind_item, item_id, score, 1))
        sums = per_dimension[dimension]
        sums[0] += score
        sums[1] += 1
        total += score
        count += 1
    tails.extend((kind_dimension, dimension, s, c) for dimension, (s, c) in per_dimension.items())
    return tails, total, count


class CellTally:
    """Cell increments of the responses a bulk write makes in one survey (see the module's doc)."""

    def __init__(self, session, survey_id):
        self.session, self.connection, self.survey_id = session, session.connection(), survey_id
        self.dimension_of = dimensions_of(self.connection, survey_id)
        self.waiting = {}  # response id -> (team id or 0, perspective, answers, predictions), unpublished
        self.counts = Counter()  # (team, month, perspective, kind, subject, sum, count) -> respondents
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
        others = []
        counts = self.counts
        for response_id, stamp in dated.items():
            entry = self.waiting.pop(response_id, None)
            if entry is None:
                others.append(response_id)
                continue
            team, perspective, answers, predictions = entry
            tails, total, count = _scores(answers, self.dimension_of, ITEM, DIMENSION)
            tails.append((RESPONSES, 0, 0, 0))
            if count:
                tails.append((OVERALL, 0, total, count))
            if perspective == "staff" and predictions:
                tails.extend(_scores(predictions, self.dimension_of, PREDICTED_ITEM, PREDICTED_DIMENSION)[0])
            month = f"{stamp.year:04d}-{stamp.month:02d}"  # published_at is UTC (UTCDateTime)
            for place in ((team, month), (ALL_TEAMS, month), (team, ALL_MONTHS), (ALL_TEAMS, ALL_MONTHS)):
                counts.update(map((*place, perspective).__add__, tails))  # counted in C, not a Python loop
        if others:
            service.add(self.session, self.survey_id, others)
        if len(counts) >= LIMIT:
            self.flush()

    def flush(self):
        """Write the counted increments into the report cells (one statement, or one executemany)."""
        if not self.counts:
            return
        cells, self.counts = self.counts, Counter()
        if self.connection.dialect.name == "postgresql":
            columns = {name: [key[index] for key in cells] for index, name in enumerate(_NAMES[1:-1])}
            columns["survey_id"] = [self.survey_id] * len(cells)
            columns["respondents"] = list(cells.values())
            self.connection.exec_driver_sql(POSTGRESQL_UPSERT, columns)
            return
        # SQLite holds one writer at a time (no lock order to keep); in the order of the covering
        # index ix_report_cells_by_month (survey, month, kind, team, ...) its pages are written in
        # sequence, which measured twice as fast as the primary key's order.
        rows = sorted((self.survey_id, key[1], key[3], key[0], key[2], key[4], key[5], key[6], n)
                      for key, n in cells.items())
        self.connection.exec_driver_sql(SQLITE_UPSERT, rows)
