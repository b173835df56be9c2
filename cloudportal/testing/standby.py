"""A real streaming standby of a local PostgreSQL cluster, for the replica tests and
the scale benchmark.

`standby_start()` copies the running cluster with `pg_basebackup -R` (a physical
replication slot of its own keeps the WAL it needs, so a paused or slow standby
never falls off), writes a postgresql.conf and pg_hba.conf of its own into the copy
(port, sockets in its own directory, `hot_standby = on`, the primary's connection
limits, which a hot standby must match or exceed) and starts it with `pg_ctl` on a
free port. `Standby.stop()` stops it, drops its slot and deletes its directory;
the standby and slot of a run killed before its teardown are removed by the next
`standby_start()` (a slot nobody reads keeps WAL on the primary for ever).

PostgreSQL refuses to run as root: when this process is root (CI), the cluster's
programs run as the `postgres` OS user (`runuser`). The primary must accept
replication connections from 127.0.0.1 as its superuser: scripts/ensure-services.sh
adds that line to a local test cluster's pg_hba.conf if it is missing.

The whole cluster is copied (PostgreSQL replicates clusters, not databases): a few
seconds for a test cluster, more beside large benchmark databases.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The PostgreSQL programs; by default those of the primary's major version (Debian's layout).
PG_BIN = os.environ.get("PG_BIN", "")
SLOT_PREFIX = "cloudportal_standby_"
#: Settings a hot standby must have at least as high as its primary.
MATCHED = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class StandbyError(RuntimeError):
    pass


def _as_cluster_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(_as_cluster_owner(argv), capture_output=True, text=True, **kwargs)  # noqa: S603
    if result.returncode:
        raise StandbyError(f"{Path(argv[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Standby:
    host: str
    port: int
    directory: Path
    slot: str
    primary: dict
    bin: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        """A database URL (DATABASE_REPLICA_URL) for `database` on the standby."""
        return f"postgres://{self.primary['user']}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.primary["user"], dbname=database, autocommit=True
        )

    def replay_pause(self) -> None:
        """Stop applying WAL (it still arrives): the standby keeps showing the data
        as it is now until `replay_resume()`."""
        with self.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
            for _ in range(200):
                if conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused":
                    return
                time.sleep(0.05)
        raise StandbyError("replay did not pause")

    def replay_resume(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def caught_up(self, timeout: float = 120) -> None:
        """Waits until the standby has replayed everything the primary has written."""
        with _primary(self.primary) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect() as conn:
            while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise StandbyError(f"the standby has not replayed up to {target} in {timeout}s")
                time.sleep(0.02)

    def is_running(self) -> bool:
        return (
            subprocess.run(
                _as_cluster_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]), capture_output=True
            ).returncode
            == 0
        )  # noqa: S603

    def halt(self) -> None:
        """Stops the server (its directory and slot stay: `start()` again)."""
        if self.is_running():
            _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def start(self) -> None:
        _run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "-t",
                "120",
                "start",
            ]
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with self.connect() as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
                    raise StandbyError("the copy is not in recovery: it is not a standby")
            except StandbyError:
                raise
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stops the server, drops its replication slot on the primary, deletes it."""
        try:
            self.halt()
        finally:
            with contextlib.suppress(Exception), _primary(self.primary) as primary:
                primary.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                    [self.slot],
                )
            shutil.rmtree(self.directory, ignore_errors=True)


def _primary(primary: dict):
    import psycopg

    return psycopg.connect(
        host=primary["host"], port=primary["port"], user=primary["user"], dbname="postgres", autocommit=True
    )


def _orphans_stop(programs: Path) -> int:
    """Stops and deletes the standbys of runs killed before their teardown (their
    `owner` process is gone): each is a copy of the whole cluster."""
    stopped = 0
    for directory in Path(tempfile.gettempdir()).glob("cloudportal-standby-*"):
        try:
            owner = int((directory / "owner").read_text())
        except (OSError, ValueError):
            continue  # being made, or not one of ours
        if _alive(owner):
            continue
        if (directory / "data" / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603
                _as_cluster_owner([str(programs / "pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(directory, ignore_errors=True)
        stopped += 1
    return stopped


def _slots_stale_drop(primary: dict) -> None:
    """Drops the slots of standbys whose process is gone (a run killed before its
    teardown): a slot nobody reads keeps WAL on the primary for ever."""
    with _primary(primary) as conn:
        rows = conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active", [SLOT_PREFIX + "%"]
        ).fetchall()
        for (slot,) in rows:
            match = re.fullmatch(SLOT_PREFIX + r"(\d+)_\w+", slot)
            if match and _alive(int(match.group(1))):
                continue
            conn.execute("SELECT pg_drop_replication_slot(%s)", [slot])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _replication_check(primary: dict) -> None:
    import psycopg

    try:
        psycopg.connect(
            f"host={primary['host']} port={primary['port']} user={primary['user']} replication=true dbname=postgres"
        ).close()
    except psycopg.OperationalError as exc:
        raise StandbyError(
            f"the primary refuses replication connections ({exc}); a local test cluster gets them from "
            "scripts/ensure-services.sh (a `host replication` line in pg_hba.conf)"
        ) from None


def _programs(primary: dict) -> Path:
    """Where pg_basebackup and pg_ctl are: PG_BIN, else the primary's major version's
    directory, else wherever pg_ctl is on the PATH."""
    if PG_BIN:
        return Path(PG_BIN)
    with _primary(primary) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if (debian / "pg_ctl").exists():
        return debian
    found = shutil.which("pg_ctl")
    if found is None:
        raise StandbyError(f"pg_ctl not found (no {debian}): set PG_BIN")
    return Path(found).parent


def _config(primary: dict, port: int, directory: Path) -> str:
    with _primary(primary) as conn:
        matched = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in MATCHED}
    lines = {
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{directory}'",
        "hot_standby": "on",
        "hba_file": f"'{directory / 'data' / 'pg_hba.conf'}'",
        "ident_file": f"'{directory / 'data' / 'pg_ident.conf'}'",
        "shared_buffers": "'64MB'",
        "fsync": "off",  # a throwaway copy: nothing to keep across a crash
        "max_standby_streaming_delay": "'5s'",
        "log_min_messages": "warning",
        **matched,
    }
    return "".join(f"{name} = {value}\n" for name, value in lines.items())


def standby_start(
    *, host: str = "127.0.0.1", port: int = 5432, user: str = "postgres", standby_port: int | None = None
) -> Standby:
    """Copies the cluster at host:port into a temporary directory and starts the copy
    as a hot standby streaming from it, on `standby_port` (or a free port)."""
    primary = {"host": host, "port": port, "user": user}
    _replication_check(primary)
    programs = _programs(primary)
    if _orphans_stop(programs):
        time.sleep(2)  # their connections end on the primary, and their slots become inactive
    _slots_stale_drop(primary)
    standby_port = standby_port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="cloudportal-standby-"))
    (directory / "owner").write_text(str(os.getpid()))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    slot = f"{SLOT_PREFIX}{os.getpid()}_{standby_port}"
    standby = Standby(
        host="127.0.0.1", port=standby_port, directory=directory, slot=slot, primary=primary, bin=programs
    )
    data = standby.data
    try:
        # -c fast: a checkpoint now rather than a spread one; -N: no fsync of a throwaway copy.
        _run([
            str(standby.bin / "pg_basebackup"), "-h", host, "-p", str(port), "-U", user, "-D", str(data),
            "-X", "stream", "-c", "fast", "-N", "-R", "-C", "-S", slot,
        ])  # fmt: skip
        config = _config(primary, standby_port, directory)
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
        for name, text in (("postgresql.conf", config), ("pg_hba.conf", hba), ("pg_ident.conf", "")):
            path = data / name
            path.write_text(text)
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        standby.start()
    except BaseException:
        standby.stop()
        raise
    return standby
