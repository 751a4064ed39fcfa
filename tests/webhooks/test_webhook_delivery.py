"""Sending webhooks safely: in production only public addresses are reached (checked when an endpoint
is added and again at every send, so a DNS answer that changes in between reaches nothing), the
delivery log keeps an error category rather than the exception's text, and WEBHOOK_TIMEOUT bounds a
whole delivery (a receiver that dribbles its answer cannot hold the worker)."""

import socket
import threading
from contextlib import closing

import pytest
from sqlalchemy import select

from perception.core.models import WebhookDelivery
from perception.core.webhooks_outbox import emit
from perception.webhooks.delivery_service import deliver_due_webhooks
from perception.webhooks.service import WebhookError, add_endpoint

PUBLIC = "93.184.216.34"  # a global address, written as a literal: no DNS needed to check it


def listening():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    return sock


def serve_once(listener, answer):
    """Accept one connection on a thread and let `answer(connection)` talk to it."""
    def run():
        connection, _address = listener.accept()
        with connection:
            answer(connection)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def deliver_all(db):
    emit("followup.opened", {"n": 1}, "one line")
    db.session.commit()
    deliver_due_webhooks()
    db.session.expire_all()
    return {row.endpoint.url: row for row in db.session.execute(select(WebhookDelivery)).scalars()}


def test_in_production_an_endpoint_must_resolve_to_public_addresses_only(app):
    app.config["PERCEPTION_ENV"] = "production"
    for url in ("https://127.0.0.1:6443/api", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/",
                "https://localhost:22/", "https://[::1]:5432/", "https://0.0.0.0:8080/", "https://100.64.0.1/",
                "https://[::ffff:127.0.0.1]/", "https://[fe80::1]/", "https://192.168.1.1/",
                # IPv6 that carries a private IPv4 address to a translator (a robustness review): NAT64's
                # well-known prefix (10.0.0.1, the metadata service), its local-use prefix, and 6to4.
                "https://[64:ff9b::a00:1]/", "https://[64:ff9b::a9fe:a9fe]/", "https://[64:ff9b:1::a00:1]/",
                "https://[2002:a00:1::1]/",
                # Outside global unicast (2000::/3), which Python 3.11's is_global let pass (an attacker's
                # read): IPv4-compatible ::169.254.169.254 and site-local fec0::/10.
                "https://[::a9fe:a9fe]/", "https://[fec0::1]/"):
        with pytest.raises(WebhookError, match="public internet") as refused:
            add_endpoint(url, ["followup.opened"])
        assert refused.value.field == "url", url
    add_endpoint(f"https://{PUBLIC}/hooks", ["followup.opened"])
    add_endpoint("https://[64:ff9b::808:808]/hooks", ["followup.opened"])  # 8.8.8.8 through NAT64: public
    app.config["PERCEPTION_ENV"] = "development"
    add_endpoint("https://127.0.0.1:6443/api", ["followup.opened"])  # outside production, for a local receiver


def test_a_host_that_resolves_to_a_private_address_at_send_time_is_not_reached(app, db, monkeypatch):
    app.config.update(PERCEPTION_ENV="production", WEBHOOK_TIMEOUT=1)
    real_getaddrinfo = socket.getaddrinfo
    answers = {"hooks.example.com": [PUBLIC]}

    def dns(host, port, *args, **kwargs):  # the outside world's DNS, which whoever owns the name controls
        if host not in answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [found for address in answers[host] for found in real_getaddrinfo(address, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    with closing(listening()) as listener:
        port = listener.getsockname()[1]
        add_endpoint(f"https://hooks.example.com:{port}/x", ["followup.opened"])  # public when added
        answers["hooks.example.com"] = ["127.0.0.1"]  # and then rebound to this machine
        [delivery] = deliver_all(db).values()
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
    assert (delivery.status, delivery.last_status, delivery.last_error) == ("pending", None, "address not allowed")
    answers["hooks.example.com"] = [PUBLIC, "10.0.0.5"]  # one private address among public ones is enough
    with pytest.raises(WebhookError, match="public internet"):
        add_endpoint(f"https://hooks.example.com:{port}/x", ["followup.opened"])


def test_the_log_keeps_an_error_category_not_the_error_text(app, db):
    app.config["WEBHOOK_TIMEOUT"] = 2
    with closing(listening()) as ssh, closing(listening()) as closed:
        closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}/x"
        closed.close()  # nothing listens on that port any more
        ssh_url = f"https://127.0.0.1:{ssh.getsockname()[1]}/x"

        def banner(connection):  # another service than a web server on that port
            connection.recv(4096)
            connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        thread = serve_once(ssh, banner)
        add_endpoint(ssh_url, ["followup.opened"])
        add_endpoint(closed_url, ["followup.opened"])
        deliveries = deliver_all(db)
        thread.join(timeout=10)
    assert {url: row.last_error for url, row in deliveries.items()} == {
        ssh_url: "TLS error", closed_url: "connection refused"}


def test_a_receiver_that_dribbles_its_answer_is_cut_off_at_the_total_timeout(app, db):
    app.config["WEBHOOK_TIMEOUT"] = 1
    stop = threading.Event()

    def dribble(connection):
        connection.recv(65536)
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _byte in range(15):  # 3 s in all, each byte well within the 1 s one read may wait
                if stop.wait(0.2):
                    return
                connection.sendall(b"a")
            connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return  # the worker hung up

    with closing(listening()) as listener:
        thread = serve_once(listener, dribble)
        add_endpoint(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", ["followup.opened"])
        [delivery] = deliver_all(db).values()
        stop.set()
        thread.join(timeout=10)
    assert (delivery.status, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "pending", 1, None, "timeout")
