"""A real PgBouncer in transaction mode in front of the test database.

- `pgbouncers`: starts PgBouncers (Debian's `pgbouncer`, which scripts/ensure-services.sh
  installs) on free loopback ports, one per pool size asked for, `pool_mode =
  transaction`, trusting the test database's user; `pgbouncers.get(pool_size=2)`.
- `through_pgbouncer`: for one test, Django's default connection (in every thread,
  and the second connections the code opens from its settings) goes through a
  PgBouncer with DATABASE_POOLER=pgbouncer's settings. Pool size 2 unless the test
  says `@pytest.mark.pgbouncer(pool_size=1)`. It needs a transactional database
  (`@pytest.mark.django_db(transaction=True)`): the connection is reopened.

Each PgBouncer starts once per session, the first time a test asks for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cloudportal.settings.database import database_pooled

from .smtp import free_port

PGBOUNCER = os.environ.get("PGBOUNCER_PATH", "/usr/sbin/pgbouncer")


@dataclass
class PgBouncer:
    host: str
    port: int
    pool_size: int
    process: subprocess.Popen
    directory: Path
    user: str = "postgres"

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, name: str) -> str:
        """A DATABASE_URL through this PgBouncer to database `name`."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{name}"

    def admin(self, command: str) -> list[tuple]:
        """A command of PgBouncer's admin console (SHOW POOLS, ...), its rows."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, dbname="pgbouncer", user=self.user, autocommit=True
        ) as console:
            return console.execute(command).fetchall()


def _config(*, port: int, pool_size: int, server: dict, directory: Path) -> str:
    return f"""[databases]
* = host={server["HOST"] or "127.0.0.1"} port={server["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
admin_users = {server["USER"] or "postgres"}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits,options
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
"""


def pgbouncer_start(*, pool_size: int, server: dict) -> PgBouncer:
    """A PgBouncer (transaction mode, `pool_size` server connections per database)
    in front of the PostgreSQL of `server` (a DATABASES entry); the benchmarks use it
    too. `stop()` it."""
    if not os.access(PGBOUNCER, os.X_OK):
        raise RuntimeError(f"{PGBOUNCER} is missing: run scripts/ensure-services.sh (it installs pgbouncer)")
    # Not pytest's tmp_path: PgBouncer refuses to run as root, and pytest's directories
    # are the current user's alone.
    directory = Path(tempfile.mkdtemp(prefix="cloudportal-pgbouncer-"))
    user = server["USER"] or "postgres"
    # Clients are trusted; PgBouncer logs in to PostgreSQL with the test database's password.
    password = (server.get("PASSWORD") or "").replace('"', '""')
    (directory / "users.txt").write_text(f'"{user}" "{password}"\n')
    port = free_port()
    (directory / "pgbouncer.ini").write_text(
        _config(port=port, pool_size=pool_size, server=server, directory=directory)
    )
    command = [PGBOUNCER, "-q", str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
        for path in directory.iterdir():
            shutil.chown(path, user="postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bouncer = PgBouncer(
        host="127.0.0.1", port=port, pool_size=pool_size, process=process, directory=directory, user=user
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            bouncer.admin("SHOW VERSION")
            return bouncer
        except Exception:  # noqa: BLE001 - not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"PgBouncer did not start; its log:\n{bouncer.log()}") from None
            time.sleep(0.1)


@dataclass
class PgBouncers:
    server: dict
    started: dict[int, PgBouncer] = field(default_factory=dict)

    def get(self, *, pool_size: int = 2) -> PgBouncer:
        if pool_size not in self.started:
            self.started[pool_size] = pgbouncer_start(pool_size=pool_size, server=self.server)
        return self.started[pool_size]

    def stop(self) -> None:
        for bouncer in self.started.values():
            bouncer.stop()


@pytest.fixture(scope="session")
def pgbouncers(django_db_setup):
    from django.db import connection

    started = PgBouncers(server=dict(connection.settings_dict))
    yield started
    started.stop()


@pytest.fixture
def through_pgbouncer(request, pgbouncers, transactional_db) -> PgBouncer:
    """Django's default connection goes through PgBouncer for this test."""
    from django.db import connection, connections

    marker = request.node.get_closest_marker("pgbouncer")
    bouncer = pgbouncers.get(pool_size=(marker.kwargs.get("pool_size", 2) if marker else 2))
    settings_dict = connection.settings_dict  # the same dict in every thread's connection
    saved = {key: settings_dict.get(key) for key in ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS")}
    saved_options = dict(settings_dict.get("OPTIONS") or {})
    connections.close_all()
    settings_dict.update(HOST=bouncer.host, PORT=bouncer.port)
    database_pooled(settings_dict, pooler="pgbouncer")
    try:
        yield bouncer
    finally:
        connections.close_all()
        settings_dict.update(saved)
        settings_dict["OPTIONS"] = saved_options


@pytest.fixture(params=["direct", "pgbouncer"])
def database_route(request) -> str:
    """Runs the test twice: straight to PostgreSQL, then through PgBouncer
    (`through_pgbouncer`); the test needs a transactional database."""
    if request.param == "pgbouncer":
        request.getfixturevalue("through_pgbouncer")
    return request.param


def pytest_configure(config):
    config.addinivalue_line("markers", "pgbouncer(pool_size=2): the PgBouncer `through_pgbouncer` uses")
