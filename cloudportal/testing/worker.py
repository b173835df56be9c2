"""A real Celery worker for tests about the queue.

- `celery_worker`: a real worker process (solo pool) on a Redis broker of its own
  (TEST_WORKER_BROKER_URL), on the test database and sending to `smtp_server`; the
  tasks a test queues go to it. `celery_worker.wait_for_tasks(name)` and
  `stats_total()` count the tasks it took during the test. The test must use a
  transactional database: `@pytest.mark.django_db(transaction=True)`.
- `celery_conf`: `celery_conf(broker_url=...)` changes the test process's Celery app
  for one test, and puts it back afterwards.

The worker process starts once per session, the first time a test asks for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

# The real worker's broker: a Redis database of its own, because the cache's
# database (TEST_REDIS_URL) is flushed between tests.
WORKER_BROKER_URL = os.environ.get("TEST_WORKER_BROKER_URL", "redis://127.0.0.1:6379/14")


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
    control_app.conf.task_queues = settings.CELERY_TASK_QUEUES  # purged between tests, every one
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
        ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES),
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
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
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
