"""A real HTTP receiver on loopback for the webhook tests: records every POST (headers and raw body),
answers with the statuses it is given in turn (then 200), can hold its first requests until
several arrive together (to prove two workers deliver at the same time), and can run a test's
`on_request` while a sender waits for its answer."""

import hashlib
import hmac
import threading
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []  # (headers as a dict, raw body bytes)
        self.lock = threading.Lock()
        self.hold = None  # a Barrier the first `hold.parties` requests wait at
        self.on_request = None  # called with (headers, body) before answering, outside the lock
        self.url = None

    def bodies(self):
        return [body for _headers, body in self.requests]


def signature_ok(secret, header, raw_body):
    """Check a Perception-Signature header the way a receiver would: recompute the HMAC."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@contextmanager
def running_receiver(statuses=()):
    receiver = Receiver(statuses)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (the name http.server calls)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.requests.append((dict(self.headers), body))
                place = len(receiver.requests)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if receiver.on_request is not None:
                receiver.on_request(dict(self.headers), body)
            if receiver.hold is not None and place <= receiver.hold.parties:
                # A broken barrier (timeout): the test's assertion on who delivered what says so.
                with suppress(threading.BrokenBarrierError):
                    receiver.hold.wait()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
