"""The real stack, with faults to inject, for the fault tests (marker `faults`).

- `fault_stack` (one per test module): a Redis server of its own (`RedisServer`, on
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
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .smtp import SMTPSink, free_port
from .worker import _database_url, celery_conf_override


def wait_until(check: Callable[[], object], *, timeout: float = 20, what: str = "the condition") -> object:
    """Poll `check` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


class RedisServer:
    """A private `redis-server` on a free loopback port, without persistence."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running():
            return
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory), "--loglevel", "warning"]
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - kept by the process
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start: " + (self.directory / "redis.log").read_text())
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it at once (SIGKILL: what it held in memory is gone)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class StoppableSMTP:
    """The test SMTP server (`SMTPSink`) on a port of its own, stopped and started there."""

    def __init__(self) -> None:
        self.sink = SMTPSink()
        self.sink.port = free_port()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self.controller is None:
            logging.getLogger("mail.log").setLevel(logging.WARNING)
            self.controller = Controller(self.sink, hostname=self.sink.host, port=self.sink.port)
            self.controller.start()

    def with_subject(self, subject: str, to: str | None = None) -> list:
        return [m for m in self.sink.received(to) if subject in str(m["Subject"])]

    def wait_for_subject(self, subject: str, *, to: str | None = None, settle: float = 1.5) -> list:
        """The messages with `subject` once one has come and `settle` seconds more
        have passed (so that a second copy would have come too)."""
        wait_until(lambda: self.with_subject(subject, to), what=f"an email {subject!r}")
        time.sleep(settle)
        return self.with_subject(subject, to)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class PausePoints:
    """The test side of `cloudportal.faults.fault_pause`: hold a point, wait until a
    process reaches it (its pid), release it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def hold(self, name: str) -> None:
        (self.directory / f"{name}.reached").unlink(missing_ok=True)
        (self.directory / f"{name}.hold").touch()

    def wait_reached(self, name: str, timeout: float = 20) -> int:
        reached = self.directory / f"{name}.reached"
        wait_until(lambda: reached.exists() and reached.read_text(), timeout=timeout, what=f"pause point {name}")
        return int(reached.read_text())

    def release(self, name: str) -> None:
        (self.directory / f"{name}.hold").unlink(missing_ok=True)

    def clear(self) -> None:
        for path in self.directory.iterdir():
            path.unlink()


class FaultWorker:
    """`celery worker --pool=prefork --concurrency=1`: a parent that takes messages and
    one pool process that runs them; the parent starts a new pool process when one dies."""

    def __init__(self, *, env: dict, log_path: Path, cwd: Path) -> None:
        from django.conf import settings

        celery_bin = Path(sys.executable).with_name("celery")
        command = [str(celery_bin if celery_bin.exists() else shutil.which("celery")), "-A", "cloudportal", "worker"]
        command += ["--pool=prefork", "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        command += ["-Q", ",".join(q.name for q in settings.CELERY_TASK_QUEUES), "-l", "warning"]
        self.name = f"cloudportal-faults-{os.getpid()}@{socket.gethostname()}"
        command += ["-n", self.name]
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ping(self, broker_url: str) -> bool:
        from celery import Celery

        control = Celery("cloudportal-faults-control", broker=broker_url, set_as_current=False)
        control.conf.broker_connection_retry_on_startup = False
        try:
            return bool(control.control.ping(destination=[self.name], timeout=0.5))
        except Exception:  # noqa: BLE001 - the broker itself may be down: no answer
            return False
        finally:
            control.close()

    def wait_ready(self, broker_url: str, timeout: float = 40) -> None:
        """Until the worker answers on `broker_url` (after a start, or the broker's return)."""
        wait_until(lambda: self.process.poll() is not None or self.ping(broker_url), timeout=timeout, what="the worker")
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker stopped; its log:\n{self.log()}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def kill(pid: int) -> None:
    """SIGKILL a process (a pool process in the middle of its task) and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=10, what=f"process {pid} to die")


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    return True


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
        from cloudportal.celery import app

        with app.connection_for_write(self.broker_url) as conn:
            conn.default_channel.client.flushdb()


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
        # tried again after 2, 4, ... seconds rather than minutes.
        "EXPORT_BUILD_LEASE_SECONDS": "1",
        "EMAIL_RETRY_SECONDS": "1",
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
    fault_stack.redis.start()
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


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` closes every connection through
    it and refuses new ones; `restore()` accepts them again, on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy", daemon=True).start()

    restore = start

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    stop = cut


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
