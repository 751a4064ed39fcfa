"""Two admins demoting or deactivating each other at the same moment: one change goes through, the
other is refused, and one active admin is left (on SQLite and PostgreSQL)."""

import threading

import pytest
from sqlalchemy import event, func, select

from perception.accounts.people_service import PeopleError, deactivate_user, update_user
from perception.core.models import User
from tests.helpers import make_user


def _active_admins(db):
    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))).scalar_one()


def _both_at_once(app, db, change, pairs):
    """Run change(target, actor) in one thread per (actor id, target id), each with its own session and
    connection. A barrier holds every thread just before its first write or row lock, so each has
    read what it reads before anything is written: the moment two requests race."""
    barrier = threading.Barrier(len(pairs))
    workers = set()
    waited = set()

    def hold_first_write(_conn, _cursor, statement, _params, _context, _many):
        thread = threading.current_thread()
        writes = statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) or "FOR UPDATE" in statement
        if thread in workers and thread not in waited and writes:
            waited.add(thread)
            barrier.wait(timeout=60)  # a guard against a hang only; both threads normally arrive at once

    results = {}

    def run(actor_id, target_id):
        try:
            with app.app_context():
                actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
                change(target, actor)
                results[actor_id] = "done"
        except PeopleError as error:
            results[actor_id] = str(error)
        except Exception as error:  # noqa: BLE001  (shown by the test's assertion)
            results[actor_id] = repr(error)
        finally:
            if threading.current_thread() not in waited:  # it never wrote: do not leave the other one waiting
                barrier.abort()

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    workers.update(threads)
    event.listen(db.engine, "before_cursor_execute", hold_first_write)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        event.remove(db.engine, "before_cursor_execute", hold_first_write)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("change", [
    lambda target, actor: update_user(target, "leader", None, actor=actor),
    lambda target, actor: deactivate_user(target, actor=actor),
], ids=["demote", "deactivate"])
def test_two_admins_changing_each_other_at_once_leave_one_admin(app, db, change):
    ada = make_user("admin", email="ada@example.com")
    bo = make_user("admin", email="bo@example.com")
    results = _both_at_once(app, db, change, [(ada.id, bo.id), (bo.id, ada.id)])
    outcomes = sorted("done" if value == "done" else "refused" for value in results.values())
    assert outcomes == ["done", "refused"], results
    refused = next(value for value in results.values() if value != "done")
    assert refused.startswith("This is the last active admin"), results
    assert _active_admins(db) == 1
