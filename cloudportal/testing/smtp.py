"""A real SMTP server for tests about email delivery.

- `smtp_server`: an aiosmtpd server on a free loopback port, with Django in the test
  process pointed at it; `smtp_server.wait_for(count, to=...)` returns the messages
  received, `SMTPSink.parts(message)` their text and HTML alternatives.

The server (`_smtp_sink`) starts once per session and is emptied around each test;
the real Celery worker (`cloudportal.testing.worker`) sends to it too.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.messages: list[EmailMessage] = []
        #: Called (in the server's thread) as each message arrives, before it is
        #: accepted, while its sender waits for the answer; emptied by clear().
        self.on_message: Callable[[EmailMessage], None] | None = None
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        if self.on_message is not None:
            self.on_message(message)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        self.on_message = None
        with self._changed:
            self.messages.clear()

    def received(self, to: str | None = None) -> list[EmailMessage]:
        with self._changed:
            messages = list(self.messages)
        if to is None:
            return messages
        return [m for m in messages if to.lower() in str(m.get("To", "")).lower()]

    def wait_for(self, count: int = 1, timeout: float = 10, to: str | None = None) -> list[EmailMessage]:
        """The messages (to `to`, if given) once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while len(matching := self.received(to)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                got = [str(m["To"]) for m in self.received()]
                raise AssertionError(f"expected {count} email(s){f' to {to}' if to else ''}, received: {got}")
            with self._changed:
                self._changed.wait(min(left, 0.1))
        return matching

    @staticmethod
    def parts(message: EmailMessage) -> tuple[str | None, str | None]:
        """The text/plain and text/html alternatives of a received message."""
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        return (text.get_content() if text else None, html.get_content() if html else None)


@pytest.fixture(scope="session")
def _smtp_sink():
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    sink = SMTPSink()
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_sink, settings) -> SMTPSink:
    """A real SMTP server on loopback; Django in this process sends to it."""
    _smtp_sink.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = _smtp_sink.host
    settings.EMAIL_PORT = _smtp_sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield _smtp_sink
    _smtp_sink.clear()
