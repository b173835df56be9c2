"""Fixtures shared by every app's tests.

- `smtp_server`: a real SMTP server (aiosmtpd) that Django sends to.
- `celery_worker`: a real Celery worker process on a Redis broker of its own.
- `celery_conf`: change the test process's Celery app for one test.
- `browser`, `page`, `portal`: Chromium through Playwright against the live server;
  a console error or a CSP violation fails the test.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in the main thread; Django would then
# refuse database access from the test itself.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent
# The real worker's broker: a Redis database of its own, because the cache's
# database (TEST_REDIS_URL) is flushed between tests.
WORKER_BROKER_URL = os.environ.get("TEST_WORKER_BROKER_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits live in the cache (Redis): no test inherits another's counters."""
    cache.clear()
    yield
    cache.clear()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP -----------------------------------------------------------------------


class SMTPSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def clear(self) -> None:
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


# --- Celery ---------------------------------------------------------------------


def _reset_producer_pools(app) -> None:
    """Forget the app's broker pools so the next publish uses the current broker_url.

    The pools themselves belong to kombu's process-wide registry, one per broker
    URL, and stay open there for the next test.
    """
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_conf_override(**values):
    """Change the test process's Celery app configuration, then put it back.

    The app's configuration is a chain: explicit changes first, then Django's
    CELERY_* settings, read when looked up. The override goes into the changes, and
    is put back by restoring the changes alone: writing back the looked-up values
    would pin whatever Django's settings said at that moment (a test may have
    changed them) over the settings for the rest of the run.
    """
    from cloudportal.celery import app

    missing = object()
    changes = app.conf.changes
    saved = {key: changes.get(key, missing) for key in values}
    app.conf.update(values)
    _reset_producer_pools(app)
    try:
        yield app
    finally:
        for key, value in saved.items():
            if value is missing:
                changes.pop(key, None)
            else:
                changes[key] = value
        _reset_producer_pools(app)


@pytest.fixture
def celery_conf():
    """`celery_conf(broker_url=...)` changes the Celery app for the rest of the test."""
    with ExitStack() as stack:
        yield lambda **values: stack.enter_context(celery_conf_override(**values))


class CeleryWorker:
    """A real worker process; counts are for the current test only."""

    def __init__(self, *, process: subprocess.Popen, name: str, control_app, log_path: Path) -> None:
        self.process = process
        self.name = name
        self.control_app = control_app
        self.log_path = log_path
        self._baseline: Counter = Counter()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ping(self, timeout: float = 0.5) -> bool:
        return bool(self.control_app.control.ping(destination=[self.name], timeout=timeout))

    def _totals(self) -> Counter:
        stats = self.control_app.control.inspect(destination=[self.name], timeout=2).stats() or {}
        if self.name not in stats:
            raise AssertionError(f"the worker did not answer; its log:\n{self.log()}")
        return Counter(stats[self.name].get("total", {}))

    def stats_total(self) -> dict[str, int]:
        """Task name -> number of tasks the worker took since the test started."""
        return {name: n for name, n in (self._totals() - self._baseline).items() if n > 0}

    def wait_for_tasks(self, name: str, count: int = 1, timeout: float = 10) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            total = self.stats_total()
            if total.get(name, 0) >= count or time.monotonic() > deadline:
                return total
            time.sleep(0.1)

    def start_test(self) -> None:
        self.control_app.control.purge()
        self._baseline = self._totals()


def _database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup, _smtp_sink, tmp_path_factory):
    from celery import Celery
    from django.conf import settings
    from django.db import connection

    control_app = Celery("cloudportal-test-control", broker=WORKER_BROKER_URL, set_as_current=False)
    control_app.conf.broker_connection_retry_on_startup = False
    with control_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()

    name = f"cloudportal-test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "TEST_REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CELERY_BROKER_URL": WORKER_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_URL": f"smtp://{_smtp_sink.host}:{_smtp_sink.port}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    celery_bin = Path(sys.executable).with_name("celery")
    command = [
        str(celery_bin if celery_bin.exists() else shutil.which("celery")),
        "-A",
        "cloudportal",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        "celery",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "warning",
        "-n",
        name,
    ]
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = CeleryWorker(process=process, name=name, control_app=control_app, log_path=log_path)
    try:
        deadline = time.monotonic() + 30
        while not worker.ping():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; its log:\n{worker.log()}")
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        control_app.close()


@pytest.fixture
def celery_worker(request, _celery_worker_process, smtp_server, settings) -> CeleryWorker:
    """A real Celery worker, sending to `smtp_server`; tasks in this test go to it.

    The worker reads the data the test commits, so the test must use a
    transactional database: `@pytest.mark.django_db(transaction=True)`.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if not transactional:
        pytest.fail("celery_worker needs @pytest.mark.django_db(transaction=True)")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = WORKER_BROKER_URL
    with celery_conf_override(task_always_eager=False, broker_url=WORKER_BROKER_URL):
        _celery_worker_process.start_test()
        yield _celery_worker_process
        _celery_worker_process.control_app.control.purge()


# --- Browser --------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    """A fresh browser tab; console errors (CSP violations among them) fail the test."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(msg) -> None:
        # A page answered with a 4xx (a form with errors) is logged as a failed
        # load; failed resources are checked through their responses below.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console {msg.type}: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    tab.on("console", on_console)
    tab.on("response", on_response)
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.console_problems = problems
    yield tab
    context.close()
    if problems:
        pytest.fail("the browser reported errors:\n" + "\n".join(problems))


@pytest.fixture
def portal(live_server, settings):
    """The live server, with links in emails pointing at it. Its URL is `portal.url`."""
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server
