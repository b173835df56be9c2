"""The servers and processes the fault tests start, stop and kill (the fixtures are
in `cloudportal.testing.faults`): a private Redis, a stoppable SMTP server, a TCP
proxy to cut PostgreSQL's connections, pause points and a prefork Celery worker."""

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
import uuid
from collections.abc import Callable
from pathlib import Path

from .smtp import SMTPSink, free_port


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
        with open(self.directory / "redis.log", "ab") as log:
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
        self.name = f"cloudportal-faults-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
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
