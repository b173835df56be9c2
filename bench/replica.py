"""A read replica for a benchmark: a streaming standby of the bench server, built and
started as the replica tests build theirs (cloudportal/testing/standby.py).

    from bench.replica import bench_replica

    with bench_replica("cloudportal_bench_scale") as replica:
        replica.caught_up()  # after building the data, before measuring
        env = {**os.environ, "DATABASE_URL": common.database_url("cloudportal_bench_scale"),
               "DATABASE_REPLICA_URL": replica.url}
        ...  # start the portal's processes with env: their heavy reads go to the standby

PostgreSQL replicates a whole server, so the standby is a copy of every database on
BENCH_PG_SERVER (the bigger the other bench databases, the longer the copy). It runs
on BENCH_REPLICA_PORT (default: a free port) and is stopped, its replication slot
dropped and its files deleted on leaving.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench import common
from cloudportal.testing.standby import Standby, standby_start


@dataclass
class BenchReplica:
    standby: Standby
    #: DATABASE_REPLICA_URL for the bench database.
    url: str

    def caught_up(self, timeout: float = 600) -> None:
        """Waits until the standby has replayed everything written so far."""
        self.standby.caught_up(timeout=timeout)


@contextmanager
def bench_replica(db_name: str) -> Iterator[BenchReplica]:
    server = urlsplit(common.database_url(db_name))
    standby = standby_start(
        host=server.hostname or "127.0.0.1",
        port=server.port or 5432,
        user=server.username or "postgres",
        standby_port=common.env_int("BENCH_REPLICA_PORT", 0) or None,
    )
    try:
        yield BenchReplica(standby=standby, url=standby.url(server.path.lstrip("/")))
    finally:
        standby.stop()


if __name__ == "__main__":  # a standby of a bench database by hand, until Enter
    name = os.environ.get("BENCH_REPLICA_DB", f"{common.DB_PREFIX}_logs")
    with bench_replica(name) as replica:
        common.say(f"DATABASE_REPLICA_URL={replica.url}  (Enter stops it)")
        input()
