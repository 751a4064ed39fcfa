"""Reading several statements on a second connection while the caller works on the rows already read.

A by-team report of 2,000 teams spends a third of its time waiting for the database to add up its
cells and two thirds computing figures in Python. Both drivers let other Python threads run while
they wait (sqlite3 releases the GIL around each step, psycopg while the server works), so a reader
thread fetching the next statement's rows overlaps the one with the other on a second core.

The statements are read in one transaction of their own that sees one snapshot (REPEATABLE READ on
PostgreSQL; on SQLite an explicit BEGIN, since the driver starts none for a SELECT, and WAL then
keeps the reader's view fixed), so the parts of one report agree with each other even while
answers are published. That connection does not see the caller's uncommitted writes: use it only
to read what is committed, as reports do.
"""

import queue
import threading
from collections.abc import Iterable, Iterator

_DONE = object()


def _snapshot_connection(engine):
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    connection = engine.connect()
    connection.exec_driver_sql("BEGIN")
    return connection


def read_in_background(engine, statements: Iterable, ahead: int = 2) -> Iterator[list]:
    """The rows of each statement (a list per statement, in order), read by a thread of their own on
    one snapshot while the caller works on the ones already yielded (at most `ahead` statements'
    rows wait for the caller). An error in the reader is raised here; closing the iterator early
    stops the reader after its current statement."""
    results = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(item):
        while not stop.is_set():
            try:
                results.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            with _snapshot_connection(engine) as connection:
                for statement in statements:
                    if stop.is_set() or not hand_over(connection.execute(statement).all()):
                        break
                connection.rollback()
        except BaseException as error:  # handed to the caller, raised there  # noqa: BLE001
            hand_over(error)
        hand_over(_DONE)

    reader = threading.Thread(target=read, name="background-reads", daemon=True)
    reader.start()
    try:
        while (rows := results.get()) is not _DONE:
            if isinstance(rows, BaseException):
                raise rows
            yield rows
    finally:
        stop.set()
        reader.join()
