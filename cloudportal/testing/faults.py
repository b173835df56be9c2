"""The real stack, with faults to inject, for the fault tests (marker `faults`).

- `fault_stack` (one per test module): a Redis server of its own (`fault_servers.RedisServer`, on
  a free port, no persistence: stopping it loses what it held, as a crash would), an
  SMTP server that can be stopped and started on its port (`StoppableSMTP`), pause
  points (`PausePoints`) and a real Celery worker with the prefork pool
  (`FaultWorker`: a parent and one pool process, which a test kills with SIGKILL as
  the kernel's OOM killer would). The shared PostgreSQL and Redis are never stopped.
- `faults`: the stack for one test: this process's Celery app publishes to the
  stack's Redis, its email goes to the stack's SMTP server, every pause is cleared,
  and both servers run. The test needs `@pytest.mark.django_db(transaction=True)`.
- `beat`: a real `celery beat` on the stack's Redis, every job every 2 seconds.
- `TcpProxy`: a TCP proxy in threads, to cut every connection to PostgreSQL and let
  new ones through again, as a restart of the server does to its clients.
- `portal_server`: `manage.py runserver` of the test settings on a free port, on the
  test database through a `TcpProxy`, with the stack's pause points.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .fault_servers import (
    FaultWorker,
    PausePoints,
    RedisServer,
    StoppableSMTP,
    TcpProxy,
    kill,
    wait_until,
)
from .smtp import SMTPSink, free_port
from .worker import _database_url, celery_conf_override

__all__ = ["TcpProxy", "fault_env", "kill", "wait_until"]


class FaultStack:
    def __init__(self, *, redis: RedisServer, smtp: StoppableSMTP, pauses: PausePoints, worker: FaultWorker) -> None:
        self.redis = redis
        self.smtp = smtp
        self.pauses = pauses
        self.worker = worker

    @property
    def broker_url(self) -> str:
        return self.redis.url(0)

    def purge(self) -> None:
        """Empty the task queues (not the whole database: kombu keeps its bindings there)."""
        from django.conf import settings

        from cloudportal.celery import app

        with app.connection_for_write(self.broker_url) as conn:
            for queue in settings.CELERY_TASK_QUEUES:
                conn.default_channel.queue_purge(queue.name)


def fault_env(*, database_url: str, pause_dir: Path, broker_url: str, smtp: SMTPSink, **extra: str) -> dict:
    """The environment of a process the fault tests start, on the test settings."""
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test",
        "DATABASE_URL": database_url,
        "TEST_REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}",
        "TEST_FAULT_PAUSE_DIR": str(pause_dir),
        # A build older than this counts as left by a dead worker; failed emails are
        # tried again after 2, 4, ... seconds rather than minutes; beat rolls up a
        # batch whose task was lost after a second.
        "EXPORT_BUILD_LEASE_SECONDS": "1",
        "EMAIL_RETRY_SECONDS": "1",
        "INGEST_ROLLUP_CATCH_UP_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="module")
def fault_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings
    from django.db import connection

    base = tmp_path_factory.mktemp("faults")
    (base / "pauses").mkdir()
    (base / "redis").mkdir()
    redis = RedisServer(base / "redis")
    redis.start()
    smtp = StoppableSMTP()
    smtp.start()
    pauses = PausePoints(base / "pauses")
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    env = fault_env(database_url=database_url, pause_dir=pauses.directory, broker_url=redis.url(0), smtp=smtp.sink)
    worker = FaultWorker(env=env, log_path=base / "worker.log", cwd=settings.BASE_DIR)
    try:
        worker.wait_ready(redis.url(0))
        yield FaultStack(redis=redis, smtp=smtp, pauses=pauses, worker=worker)
    finally:
        pauses.clear()
        worker.stop()
        smtp.stop()
        redis.stop()


@pytest.fixture
def faults(request, fault_stack, settings) -> FaultStack:
    """The fault stack for this test (see the module's docstring)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction", False):
        pytest.fail("faults needs @pytest.mark.django_db(transaction=True)")
    fault_stack.pauses.clear()
    if not fault_stack.redis.running():  # a test before stopped it
        fault_stack.redis.start()
        fault_stack.worker.wait_ready(fault_stack.broker_url)
    fault_stack.smtp.start()
    fault_stack.smtp.sink.clear()
    fault_stack.purge()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = fault_stack.broker_url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = fault_stack.smtp.sink.host
    settings.EMAIL_PORT = fault_stack.smtp.sink.port
    with celery_conf_override(task_always_eager=False, broker_url=fault_stack.broker_url):
        yield fault_stack
    fault_stack.pauses.clear()
    if fault_stack.worker.process.poll() is not None:
        pytest.fail(f"the worker stopped; its log:\n{fault_stack.worker.log()}")


@pytest.fixture
def beat(faults, tmp_path):
    """`celery beat`, every job of CELERY_BEAT_SCHEDULE every 2 seconds."""
    from django.conf import settings
    from django.db import connection

    env = fault_env(
        database_url=_database_url(connection.settings_dict),
        pause_dir=faults.pauses.directory,
        broker_url=faults.broker_url,
        smtp=faults.smtp.sink,
        TEST_BEAT_EVERY="2",
    )
    celery_bin = Path(sys.executable).with_name("celery")
    command = [str(celery_bin if celery_bin.exists() else shutil.which("celery")), "-A", "cloudportal", "beat"]
    command += ["-s", str(tmp_path / "beat-schedule"), "--pidfile=", "-l", "warning"]
    log_path = tmp_path / "beat.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class PortalServer:
    def __init__(self, *, url: str, proxy: TcpProxy, process: subprocess.Popen, log_path: Path) -> None:
        self.url = url
        self.proxy = proxy
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def portal_server(faults, tmp_path):
    """`manage.py runserver` (test settings, tasks in-process) on a free port, its
    database connection through a `TcpProxy` to the test database."""
    import urllib.request

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    proxy.start()
    database_url = _database_url({**db, "HOST": "127.0.0.1", "PORT": proxy.port})
    env = fault_env(
        database_url=database_url,
        pause_dir=faults.pauses.directory,
        broker_url=faults.broker_url,
        smtp=faults.smtp.sink,
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    port = free_port()
    log_path = tmp_path / "runserver.log"
    command = [sys.executable, "manage.py", "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = PortalServer(url=f"http://127.0.0.1:{port}", proxy=proxy, process=process, log_path=log_path)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"runserver stopped; its log:\n{server.log()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{server.url}/healthz", timeout=2):  # noqa: S310
            return True
        return False

    try:
        wait_until(up, timeout=40, what="runserver")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        proxy.cut()
