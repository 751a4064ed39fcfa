"""A loopback SMTP server in a process of its own for the mail benchmark: it accepts everything and
appends one line per message (arrival time on the machine's monotonic clock, size and recipients)
to the file given as argument, so the benchmark measures the sender, not a server sharing its
interpreter. Prints its port, then serves until killed."""

import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class _Controller(Controller):
    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]  # port 0 workaround (shared/STACK.md)
        super()._trigger_server()


class _Counter:
    def __init__(self, path):
        self.log = open(path, "a", buffering=1)  # noqa: SIM115  (open for the life of the server)

    async def handle_DATA(self, server, session, envelope):
        self.log.write(f"{time.monotonic():.6f} {len(envelope.content)} {' '.join(envelope.rcpt_tos)}\n")
        return "250 OK"


def main(path):
    controller = _Controller(_Counter(path), hostname="127.0.0.1", port=0)
    controller.start()
    print(controller.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main(sys.argv[1])
