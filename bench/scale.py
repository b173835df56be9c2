"""Scale benchmark: ingest, the /logs/ page and the dashboard through PgBouncer in
transaction mode, beside the same figures straight to PostgreSQL, in the same run.

- Database `cloudportal_bench_scale`, its own; the reference data of bench/ingest.py
  (5,000 customers, 10,000 devices, one collector), kept across runs.
- A PgBouncer started for the run in front of the bench's server (the one the tests
  start, cloudportal/testing/pgbouncer.py: pool_mode = transaction,
  default_pool_size = BENCH_SCALE_POOL, default 20), with DATABASE_POOLER=pgbouncer's
  settings on the Django side (no server-side cursors, no prepared statements).
- (a) ingest: BENCH_SCALE_ROWS sessions (default 200,000, the CSV of bench/ingest.py)
  through `sessions_ingest` into a truncated table, alternating direct and PgBouncer
  (D P P D …, BENCH_REPEAT pairs, default 3); medians, in rows/s.
- (b) /logs/ page 1 of a customer, in this process with Django's test client as
  bench/logs.py measures it, built from the database each time (not from the page
  cache): BENCH_SCALE_REQUESTS requests (default 200) each way, alternating; p50
  and p95.
- (c) the dashboard (`/`) over HTTP: the Procfile's web process (gunicorn, production
  settings, 2 × cores + 1 processes), one on each database URL, all started at once,
  and wrk (BENCH_SCALE_CONNECTIONS, default 16) on each in turn, A B B A, for
  BENCH_SCALE_SECONDS in all (default 10 each); requests/s.
- (d) with reads split across primary and replica: the dashboard again, straight to
  PostgreSQL, with DATABASE_REPLICA_URL naming a streaming standby (the dashboard's
  cached parts are built from the primary: the figure says what a replica
  configured costs the page; the replica serves the CSV and the export): BENCH_REPLICA_URL,
  or one built for the run by bench/replica.py (a copy of the whole bench server;
  BENCH_SCALE_REPLICA=0 skips it); without either, a line says it was not measured.
- Each figure has its ratio, through PgBouncer ÷ direct (for (b), of the p95 latency:
  above 1 is slower). There are no targets: the figures size a deployment (README).

Run: `python -m bench.scale [--rows N] [--repeat N] [--requests N] [--seconds N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench import common, ingest
from bench.common import Result, say, timed

NAME = "scale"
DB_NAME = "cloudportal_bench_scale"
PASSWORD = "bench-scale-password-1"  # noqa: S105 - a bench customer's, on a bench database


@contextmanager
def routed(bouncer):
    """Django's connections in this process go through `bouncer` (None: straight to
    PostgreSQL) for the block."""
    from django.db import connection, connections

    from cloudportal.settings.database import database_pooled

    settings_dict = connection.settings_dict
    saved = {key: settings_dict.get(key) for key in ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS")}
    saved_options = dict(settings_dict.get("OPTIONS") or {})
    connections.close_all()
    if bouncer is not None:
        settings_dict.update(HOST=bouncer.host, PORT=bouncer.port)
        database_pooled(settings_dict, pooler="pgbouncer")
    try:
        yield
    finally:
        connections.close_all()
        settings_dict.update(saved)
        settings_dict["OPTIONS"] = saved_options


@contextmanager
def replica_url():
    """DATABASE_REPLICA_URL for the replica line: BENCH_REPLICA_URL if set, else a
    streaming standby of the bench server built for it (bench/replica.py, a copy of
    every bench database: BENCH_SCALE_REPLICA=0 skips it), else None."""
    given = os.environ.get("BENCH_REPLICA_URL", "")
    if given or os.environ.get("BENCH_SCALE_REPLICA", "1") == "0":
        yield given or None
        return
    try:
        from bench.replica import bench_replica
    except ImportError:  # no standby helper in this checkout
        yield None
        return
    with bench_replica(DB_NAME) as replica:
        replica.caught_up()
        yield replica.url


def customer_ready(email: str):
    """The reference customer who signs in: a password, a verified address."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.models import User

    user = User.objects.get(email=email)
    # Production's hasher (the bench process runs the test settings' fast one).
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def logs_times(user, requests: int, bouncer) -> list[float]:
    """/logs/ page 1, each time built from the database: the customer's token of the
    page cache (cloudportal/fragments.py) is replaced before each request, outside
    the timing, so that the figure is the database's path, not the cache's."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from cloudportal.fragments import customer_changed

    host = next(h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*")
    url = reverse("logs:list")
    times = []
    with routed(bouncer):
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        for _ in range(5):  # warm-up
            client.get(url)
        for _ in range(requests):
            customer_changed(user.pk)
            with timed() as t:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
            times.append(t.seconds)
    return times


def dashboards_run(routes: dict[str, tuple[str, dict]], user, seconds: int, connections: int) -> dict:
    """The dashboard under wrk on one web process per route (name: database URL and
    environment), all started at once and measured in turns, A B … B A, half of
    `seconds` each turn, so that none profits from the machine's quieter moments;
    req/s over both turns."""
    from contextlib import ExitStack

    from django.conf import settings

    from bench.pages_server import Server, sign_in, wrk_run

    dashboard = ['data-page="dashboard"']

    with ExitStack() as stack:
        servers = {}
        for name, (db_url, extra_env) in routes.items():
            server = Server(
                db_url=db_url,
                redis_url=common.REDIS_URL,
                broker_url=common.REDIS_URL,
                encryption_keys=",".join(settings.FIELD_ENCRYPTION_KEYS),
                port=0,
                extra_env=extra_env,
            )
            stack.enter_context(server)
            cookie = sign_in(server, user.email, PASSWORD)  # checks that the dashboard answers
            wrk_run(server, "/", dashboard, cookie=cookie, seconds=2, connections=connections)  # warm-up
            servers[name] = (server, cookie)
        turns: dict[str, list[dict]] = {name: [] for name in routes}
        for order in (list(routes), list(reversed(routes))):
            for name in order:
                server, cookie = servers[name]
                turn = wrk_run(
                    server, "/", dashboard, cookie=cookie, seconds=max(1, seconds // 2), connections=connections
                )
                if turn["errors"]:
                    raise RuntimeError(f"the dashboard ({name}) answered {turn['errors']} errors under wrk: {turn}")
                turns[name].append(turn)
    return {
        name: {
            "rps": round(sum(t["requests"] for t in runs) / sum(t["requests"] / t["rps"] for t in runs), 1),
            "p50_ms": [t["p50_ms"] for t in runs],
            "p99_ms": [t["p99_ms"] for t in runs],
            "turns": runs,
        }
        for name, runs in turns.items()
    }


def _ratio_line(what: str, ratio: float, values: dict) -> Result:
    return Result(what=what, figure=f"{ratio:.2f}×", baseline="1.00× (direct)", target="—", passed=None, values=values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_SCALE_ROWS", 200_000))
    parser.add_argument("--repeat", type=int, default=common.env_int("BENCH_REPEAT", 3))
    parser.add_argument("--requests", type=int, default=common.env_int("BENCH_SCALE_REQUESTS", 200))
    parser.add_argument("--seconds", type=int, default=common.env_int("BENCH_SCALE_SECONDS", 10))
    parser.add_argument("--connections", type=int, default=common.env_int("BENCH_SCALE_CONNECTIONS", 16))
    parser.add_argument("--pool", type=int, default=common.env_int("BENCH_SCALE_POOL", 20))
    args = parser.parse_args(argv)
    rows, repeat = args.rows, max(1, args.repeat)

    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # the rollup is queued, as in production
    os.environ["CELERY_BROKER_URL"] = common.REDIS_URL
    common.django_setup(DB_NAME)
    from django.db import connection

    from cloudportal.testing.pgbouncer import pgbouncer_start

    macs = ingest.macs_make()
    collector = ingest.reference_data_ensure(macs)
    user = customer_ready(f"c00000@{ingest.EMAIL_DOMAIN}")
    bouncer = pgbouncer_start(pool_size=args.pool, server=dict(connection.settings_dict))
    workdir = Path(tempfile.mkdtemp(prefix="cloudportal-bench-scale-"))
    times: dict[str, list[float]] = {"direct": [], "pgbouncer": []}
    order = []
    try:
        batch = workdir / "sessions.csv"
        ingest.csv_write(batch, rows, macs, 330)
        say(f"wrote {rows:,} sessions; PgBouncer on port {bouncer.port}, pool of {args.pool}")
        common.load_warn()
        for k in range(repeat):
            order += ["direct", "pgbouncer"] if k % 2 == 0 else ["pgbouncer", "direct"]
        for route in order:
            with routed(bouncer if route == "pgbouncer" else None):
                seconds, _rollup = ingest.ingest_run(collector, batch, rows)
            times[route].append(seconds)
            say(f"ingest {route:9}: {rows:,} rows in {seconds:6.2f} s = {common.rate(rows, seconds)}")
        # The table of the last run stays for the pages.
        common.vacuum_analyze("accesslogs_networksession")

        logs: dict[str, list[float]] = {"direct": [], "pgbouncer": []}
        for half in range(2):
            for route in ("direct", "pgbouncer") if half == 0 else ("pgbouncer", "direct"):
                logs[route] += logs_times(user, args.requests // 2, bouncer if route == "pgbouncer" else None)
        logs_stats = {route: common.summary_ms(values) for route, values in logs.items()}

        name = connection.settings_dict["NAME"]
        routes = {
            "direct": (common.database_url(DB_NAME), {}),
            "pgbouncer": (bouncer.url(name), {"DATABASE_POOLER": "pgbouncer"}),
        }
        with replica_url() as url:
            if url:
                routes["replica"] = (common.database_url(DB_NAME), {"DATABASE_REPLICA_URL": url})
            dashboard = dashboards_run(routes, user, args.seconds, args.connections)
        for route, figures in dashboard.items():
            say(f"dashboard {route:9}: {figures['rps']:,.0f} req/s, p99 {figures['p99_ms']} ms")
    finally:
        bouncer.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rate = {route: rows / statistics.median(values) for route, values in times.items()}
    size = f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"
    results = [
        Result(
            what=f"ingest {size} sessions through PgBouncer (median of {repeat})",
            figure=f"{rate['pgbouncer']:,.0f} rows/s",
            baseline=f"{rate['direct']:,.0f} rows/s (direct)",
            target="—",
            passed=None,
            values={"rows": rows, "rows_per_s": {k: round(v) for k, v in rate.items()}},
        ),
        _ratio_line("  ingest: PgBouncer ÷ direct", rate["pgbouncer"] / rate["direct"], {}),
        Result(
            what=f"/logs/ page 1 through PgBouncer (p95 of {len(logs['pgbouncer'])})",
            figure=f"{logs_stats['pgbouncer']['p95_ms']:.1f} ms p95 ({logs_stats['pgbouncer']['p50_ms']:.1f} p50)",
            baseline=f"{logs_stats['direct']['p95_ms']:.1f} ms p95 ({logs_stats['direct']['p50_ms']:.1f} p50) direct",
            target="—",
            passed=None,
            values=logs_stats,
        ),
        _ratio_line(
            "  /logs/ p95: PgBouncer ÷ direct", logs_stats["pgbouncer"]["p95_ms"] / logs_stats["direct"]["p95_ms"], {}
        ),
        Result(
            what=f"dashboard through PgBouncer ({args.connections} connections, {args.seconds} s)",
            figure=f"{dashboard['pgbouncer']['rps']:,.0f} req/s",
            baseline=f"{dashboard['direct']['rps']:,.0f} req/s (direct)",
            target="—",
            passed=None,
            values=dashboard,
        ),
        _ratio_line("  dashboard: PgBouncer ÷ direct", dashboard["pgbouncer"]["rps"] / dashboard["direct"]["rps"], {}),
    ]
    if "replica" in dashboard:
        results.append(
            _ratio_line(
                "dashboard, reads on primary and replica ÷ primary alone",
                dashboard["replica"]["rps"] / dashboard["direct"]["rps"],
                dashboard["replica"],
            )
        )
    else:
        results.append(
            Result(
                what="dashboard, reads on primary and replica",
                figure="not measured",
                baseline="—",
                target="BENCH_REPLICA_URL or bench/replica.py",
                passed=None,
            )
        )
    details = {
        "rows": rows,
        "repeat": repeat,
        "order": order,
        "ingest_seconds": times,
        "pool_size": args.pool,
        "server": common.server_info(),
    }
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"Scale benchmark ({path.relative_to(common.ROOT)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
