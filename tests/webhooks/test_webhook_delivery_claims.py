"""Webhook deliveries and their claims (perception/webhooks/delivery_service.py): a delivery tried
twice in one worker call is claimed afresh each time (SQLite's claim UPDATE left the object in memory as
it was, so the second result was never written and the row stayed "sending"), and each delivery is read
again just before its POST, so one an erasure rewrote after the claim goes out as rewritten (both
found by a review)."""

import json
import threading
from datetime import timedelta

from sqlalchemy import select

from perception.core.models import WebhookDelivery, utcnow
from perception.core.webhooks_outbox import emit
from perception.followups.erasure_service import erase_customer
from perception.webhooks.delivery_service import deliver_due_webhooks
from perception.webhooks.service import add_endpoint
from tests.helpers import bank_items, make_survey, make_team
from tests.loop_helpers import invite_and_answer
from tests.webhook_receiver import running_receiver


def test_a_delivery_failing_twice_in_one_call_is_written_back_each_time(app, db):
    app.config["WEBHOOK_BATCH_SIZE"] = 1
    clock = type("Clock", (), {"now": utcnow(), "__call__": lambda self: self.now})()
    with running_receiver(statuses=[500, 500]) as receiver:
        add_endpoint(receiver.url, ["followup.opened"])
        emit("followup.opened", {"n": 1}, "one", now=clock.now - timedelta(seconds=1))
        db.session.commit()

        def slow(_headers, _body):
            if len(receiver.requests) == 1:
                clock.now += timedelta(minutes=1)  # the first POST "takes" a minute: past the 30 s back-off

        receiver.on_request = slow
        report = deliver_due_webhooks(clock=clock)
    assert len(receiver.requests) == 2 and report.retry == 2
    db.session.expire_all()
    [row] = db.session.execute(select(WebhookDelivery)).scalars()
    assert row.attempts == 2
    assert (row.status, row.claim_token) == ("pending", None), (row.status, row.claim_token)


def test_a_delivery_claimed_before_an_erasure_goes_out_as_the_erasure_rewrote_it(app, db, client):
    survey, team = make_survey(items=bank_items()), make_team()
    with running_receiver() as receiver:
        add_endpoint(receiver.url, ["response.received"])
        emit("response.received", {"n": 0}, "earlier", now=utcnow() - timedelta(minutes=1))  # first in the batch
        db.session.commit()
        invite_and_answer(client, survey, team, score=1, email="dana@example.org", name="Dana Kowalski",
                          consent="yes", phone="0161 496 0000")
        erased = []

        def erase_while_the_first_is_posted(_headers, _body):
            if erased:
                return

            def erase():
                with app.app_context():
                    erased.append(erase_customer("dana@example.org", "test"))
            thread = threading.Thread(target=erase)
            thread.start()
            thread.join(timeout=60)

        receiver.on_request = erase_while_the_first_is_posted
        deliver_due_webhooks()
    assert erased, "the erasure ran"
    bodies = [json.loads(body) for _headers, body in receiver.requests]
    second = bodies[-1]["data"]["response"]
    # Posted after the erasure committed: without the customer (and days only, no staff).
    assert "customer" not in second, second.get("customer")
