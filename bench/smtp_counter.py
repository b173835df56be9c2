"""A local SMTP server for the notice benchmark: aiosmtpd with a handler that only
counts messages per recipient (nothing is parsed or kept).

Run: `python -m bench.smtp_counter PORT STATUS_FILE`. Several processes may listen on
the same PORT (SO_REUSEPORT: the kernel spreads connections over them), as the
processes of a real mail server do. Every 0.2 s each writes the number of messages it
received to its STATUS_FILE; on SIGTERM it writes there its final count and the
number of messages each recipient received ({"messages", "recipients": {address: n}})
and exits; the benchmark adds the files up to find duplicates.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import uvloop
from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.per_recipient: Counter = Counter()
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        for recipient in envelope.rcpt_tos:
            self.per_recipient[recipient] += 1
        self.messages += 1
        return "250 OK"


class SharedPortController(Controller):
    """aiosmtpd's controller, listening with SO_REUSEPORT."""

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port, reuse_port=True)

    def _trigger_server(self):
        """aiosmtpd's start-up check connects once and waits for this process to see
        the connection; with several processes on the port the kernel may hand it to
        another one, so connect again until one reaches this process."""
        deadline = time.monotonic() + self.ready_timeout
        while not self._factory_invoked.is_set() and time.monotonic() < deadline:
            super()._trigger_server()


def _write(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(path)


def main(argv: list[str]) -> int:
    port, status = int(argv[0]), Path(argv[1])
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = CountingHandler()
    # uvloop: about 15 % less CPU a message than asyncio's own loop, for a server that
    # shares the machine with the workers it measures.
    loop = uvloop.new_event_loop()
    controller = SharedPortController(handler, hostname="127.0.0.1", port=port, decode_data=False, loop=loop)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.2):
        _write(status, {"messages": handler.messages})
    controller.stop()
    _write(status, {"messages": handler.messages, "recipients": dict(handler.per_recipient), "final": True})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
