"""Outbox claims (perception/core/outbox.py): a worker's late result is written only while the row
still carries the claim that worker took it with, also when a commit reloaded the row meanwhile (a
review: the guard had compared with the token loaded in the session, which the reload replaced with
the other worker's); and a row taken back before the worker reaches it is not sent by it at all
(web.mail_delivery.send_batch reads the claim again before each mail)."""

import threading
from datetime import timedelta

from perception.accounts import mail as account_mail
from perception.accounts.password_service import issue_link
from perception.core.models import OutboxMessage, utcnow
from perception.core.outbox import ACCOUNT_KINDS, claim_due, release_rows_claimed_before
from perception.web import mail_delivery
from tests.helpers import make_user


def test_a_late_result_of_a_row_reloaded_after_a_commit_keeps_the_other_workers_claim(
        app, db, smtp_server, monkeypatch):
    users = [make_user("leader", email=f"l{n}@example.com") for n in range(2)]
    for user in users:
        issue_link(user, "invite")
    db.session.commit()
    ids = [row.id for row in db.session.query(OutboxMessage).order_by(OutboxMessage.id)]
    claimed_by_b = []
    real_send_on = mail_delivery.send_on

    def take_back():  # worker B, after A's claim went stale: hands it back and claims the rows
        with app.app_context():
            release_rows_claimed_before(OutboxMessage, utcnow() + timedelta(days=1))
            claimed_by_b.extend((row.id, row.claim_token) for row in claim_due(10, utcnow(), ACCOUNT_KINDS))

    def send_on(connection, mail):
        real_send_on(connection, mail)
        if not claimed_by_b:  # after A's first mail went out, before its result is committed
            thread = threading.Thread(target=take_back)
            thread.start()
            thread.join(timeout=60)

    monkeypatch.setattr(mail_delivery, "send_on", send_on)
    account_mail.deliver_account_mail()
    tokens_of_b = dict(claimed_by_b)
    assert set(tokens_of_b) == set(ids)
    db.session.expire_all()
    second = db.session.get(OutboxMessage, ids[1])
    # The first row's late result is dropped (its token was loaded before the take-back) ...
    first = db.session.get(OutboxMessage, ids[0])
    assert (first.status, first.claim_token) == ("sending", tokens_of_b[ids[0]])
    # ... and the second row, taken back before A reached it, is left to B: A neither sends it nor writes it.
    assert (second.status, second.claim_token) == ("sending", tokens_of_b[ids[1]]), (second.status, second.claim_token)
    assert [mail.to for mail in smtp_server.messages] == ["l0@example.com"]
