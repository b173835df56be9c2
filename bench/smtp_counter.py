"""A local SMTP server for the notice benchmark: aiosmtpd with a handler that only
counts messages per recipient (nothing is parsed or kept).

Run: `python -m bench.smtp_counter PORT STATUS_FILE`. Several processes may listen on
the same PORT (SO_REUSEPORT: the kernel spreads connections over them), as the
processes of a real mail server do. Every 0.2 s each writes the number of messages it
received to its STATUS_FILE, with the time (`time.time()`, taken as the message's data
ends) at which each message to an address of WATCHED_DOMAIN arrived; on SIGTERM it
writes there its final count and the number of messages each recipient received
({"messages", "arrivals": {address: t}, "recipients": {address: n}}) and exits; the
benchmark adds the files up to find duplicates.

`SMTPServer(workdir, processes)` is the benchmark's side: it starts the processes on a
free port, reads their counts while they run and adds them up when it stops them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import uvloop
from aiosmtpd.controller import Controller

from bench.common import ROOT

#: Messages to this domain have their arrival time kept (the notice benchmark's
#: verification emails, timed from queuing to arrival).
WATCHED_DOMAIN = "signup.bench.test"


class CountingHandler:
    def __init__(self) -> None:
        self.per_recipient: Counter = Counter()
        self.arrivals: dict[str, float] = {}
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        for recipient in envelope.rcpt_tos:
            self.per_recipient[recipient] += 1
            if recipient.endswith("@" + WATCHED_DOMAIN):
                self.arrivals.setdefault(recipient, time.time())
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
        _write(status, {"messages": handler.messages, "arrivals": handler.arrivals})
    controller.stop()
    final = {"messages": handler.messages, "arrivals": handler.arrivals, "recipients": dict(handler.per_recipient)}
    _write(status, {**final, "final": True})
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    """`processes` counting SMTP server processes on one port."""

    def __init__(self, workdir: Path, processes: int) -> None:
        self.port = free_port()
        self.statuses = [workdir / f"smtp-{self.port}-{i}.json" for i in range(processes)]
        self.processes = [
            subprocess.Popen([sys.executable, "-m", "bench.smtp_counter", str(self.port), str(status)], cwd=ROOT)
            for status in self.statuses
        ]
        deadline = time.monotonic() + 10
        while not all(status.exists() for status in self.statuses):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError("the SMTP server did not start")
            time.sleep(0.05)

    def messages(self) -> int:
        total = 0
        for status in self.statuses:
            with contextlib.suppress(OSError, ValueError, KeyError):
                total += json.loads(status.read_text())["messages"]
        return total

    def arrivals(self) -> dict[str, float]:
        """When each message to WATCHED_DOMAIN arrived (the server's clock, `time.time()`)."""
        arrived: dict[str, float] = {}
        for status in self.statuses:
            with contextlib.suppress(OSError, ValueError, KeyError):
                arrived.update(json.loads(status.read_text())["arrivals"])
        return arrived

    def running(self) -> bool:
        return any(p.poll() is None for p in self.processes)

    def stop(self) -> dict:
        """Stop the processes and add up what they received (messages to WATCHED_DOMAIN
        left out)."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)
        per_recipient: Counter = Counter()
        messages = 0
        for status in self.statuses:
            final = json.loads(status.read_text())
            messages += final["messages"]
            per_recipient.update(final["recipients"])
        # The watched messages (timed one by one) are not part of the mailing counted.
        for address in [a for a in per_recipient if a.endswith("@" + WATCHED_DOMAIN)]:
            messages -= per_recipient.pop(address)
        duplicates = {address: n for address, n in per_recipient.items() if n > 1}
        return {
            "messages": messages,
            "recipients": len(per_recipient),
            "duplicates": sum(n - 1 for n in duplicates.values()),
            "duplicate_examples": sorted(duplicates)[:5],
        }


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
