"""The embedded portal as `make run` serves it, for tests about what happens there: a
real `manage.py runserver` process on the local settings (SQLite, tasks in-process,
no broker, emails printed to the console) with the embedded schedule.

- `embedded_portal`: `embedded_portal(settings="...", reload=True)` starts one on a
  migrated SQLite database of its own and returns an `EmbeddedPortal`: its `url`,
  its output (`log()`, `wait_for_log(pattern)`, where console emails land too),
  `manage(...)` to run another command on the same database, `sql(...)` to read it,
  and `stop(signal)`. `settings` is Python added to a settings module that extends
  cloudportal.settings.local (a faster schedule, a short grace period). Every process
  it started is stopped at the end of the test.

Files the portal writes (its database, the schedule's state, the erasure ledger,
exports) stay in the test's temporary directory; the database is migrated once per
session and copied for each test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloudportal.testing.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
#: Variables of the test run that would take the portal out of its embedded default.
NOT_EMBEDDED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "RUN_MAIN",
)


def _environment(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "embedded_test_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "EMBEDDED_SCHEDULE_STATE": str(workdir / "embedded-schedule.json"),
        "ERASURE_LEDGER_PATH": str(workdir / "erasure-ledger.jsonl"),
        "MEDIA_ROOT": str(workdir / "media"),
        **extra,
    }


def _settings_write(workdir: Path, text: str) -> Path:
    path = workdir / "embedded_test_settings.py"
    path.write_text("from cloudportal.settings.local import *  # noqa: F403\n" + text + "\n")
    return path


class EmbeddedPortal:
    def __init__(self, workdir: Path, *, settings: str, reload: bool) -> None:
        self.workdir = workdir
        self.settings_path = _settings_write(workdir, settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = _environment(workdir, SITE_URL=self.url)
        self.log_path = workdir / f"runserver-{self.port}.log"
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}"]
        if not reload:
            command.append("--noreload")
        with open(self.log_path, "wb") as log:
            # A session of its own: signals go to the server and its autoreloader child.
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for_log(r"Quit the server with", timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, *, count: int = 1, timeout: float = 30) -> list[re.Match]:
        """The matches of `pattern` in the output, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while len(found := list(re.finditer(pattern, self.log()))) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{pattern!r} ({count}) not in the output:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        return found

    def manage(self, *args: str) -> str:
        """Another management command on the same database and settings; its output
        (and its log)."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.workdir / "db.sqlite3") as db:
            return db.execute(query, params).fetchall()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send `sig` to the server (and its child), wait; its exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="session")
def _embedded_database(tmp_path_factory) -> Path:
    """An SQLite database migrated once, as `make run` leaves it (with the cache table)."""
    workdir = tmp_path_factory.mktemp("embedded-template")
    _settings_write(workdir, "")
    env = _environment(workdir)
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300)
    return workdir / "db.sqlite3"


@pytest.fixture
def embedded_portal(_embedded_database, tmp_path):
    """`embedded_portal(settings="...", reload=True)`: a `manage.py runserver` process
    on the local settings, on a database of its own."""
    started: list[EmbeddedPortal] = []

    def start(*, settings: str = "", reload: bool = True) -> EmbeddedPortal:
        workdir = tmp_path / f"embedded-{len(started)}"
        workdir.mkdir()
        shutil.copy(_embedded_database, workdir / "db.sqlite3")
        portal = EmbeddedPortal(workdir, settings=settings, reload=reload)
        started.append(portal)
        return portal

    yield start
    for portal in started:
        portal.kill()
