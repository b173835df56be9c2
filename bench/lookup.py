"""Authority lookup benchmark (SPEC §9): on the 20M-row sessions table of the /logs/
benchmark, an IP lookup in a 1-hour window p95 < 50 ms and a MAC lookup over 12
months p95 < 200 ms; and the ingest benchmark's ratio to `psql \\copy` with the
lookup indexes in place, ≥ 0.85×.

- The table: bench.logs builds it (database `cloudportal_bench_logs`, BENCH_LOGS_ROWS,
  default 20,000,000; reused while unchanged), with the migrations' indexes, the
  lookup indexes among them (accesslogs/migrations/0005_lookup_indexes.py).
- A lookup, timed: what the admin runs, `authorities.lookups.lookup_matches_store`,
  the INSERT … SELECT that copies the matched sessions with their subscriber as
  recorded, and the count of accounts, in a transaction rolled back afterwards.
- IP lookups: BENCH_LOOKUPS (200) sessions picked at random by id; for each, its IP
  address in the hour around its start (each must match at least that session).
- MAC lookups: BENCH_LOOKUPS devices of the other customers picked at random (about
  70 sessions each at 20M rows), each over the last 12 months.
- After BENCH_WARMUP (20) lookups of each kind, p50/p95/max of each; the plan
  (EXPLAIN ANALYZE) of one of each goes into the JSON file (`--explain` prints them).
- Ingest: the ingest benchmark (bench.ingest) on its own database, whose sessions
  table has the same indexes, run here unless `make bench` ran it just before
  (BENCH_RUN_STARTED, set by bench/run.py); its ratio is reported with a target of
  0.85× (the ingest benchmark's own target stays 0.9×).

Run: `python -m bench.lookup [--explain]`; quick: `BENCH_LOGS_ROWS=2000000
BENCH_LOGS_CUSTOMER_ROWS=100000 BENCH_LOOKUPS=50 BENCH_ROWS=100000 BENCH_REPEAT=1`.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from datetime import timedelta

from bench import common, data, logs
from bench.common import Result, say, timed

NAME = "lookup"
IP_TARGET_MS = 50.0
MAC_TARGET_MS = 200.0
INGEST_TARGET = 0.85
LOOKUP_INDEXES = ("accesslogs_session_ip_time", "accesslogs_session_mac_time")


def _request():
    """A request to hang the lookups on (written directly: no audit trail needed here)."""
    from django.utils import timezone

    from authorities.models import AuthorityRequest

    officer = data.customer_ensure("officer@lookup.bench.test")
    today = timezone.localdate()
    return AuthorityRequest.objects.create(
        authority="Bench",
        authority_kind="police",
        reference="BENCH",
        legal_basis="bench",
        received_on=today,
        due_on=today,
        officer=officer,
        created_by=officer,
    )


def ip_samples(n: int, total: int, rng: random.Random) -> list[tuple[str, object]]:
    """(ip, started_at) of `n` sessions picked at random by id."""
    from django.db import connection

    from accesslogs.models import NetworkSession

    found = []
    with connection.cursor() as cursor:
        while len(found) < n:
            cursor.execute(
                f"SELECT host(ip), started_at FROM {NetworkSession._meta.db_table} WHERE id = %s",  # noqa: S608
                [rng.randrange(1, total + 1)],
            )
            found += cursor.fetchall()
    return found[:n]


def mac_samples(n: int, rng: random.Random) -> list[str]:
    return [data.mac(logs.OTHER_PREFIX, rng.randrange(logs.OTHER_CUSTOMERS)) for _ in range(n)]


def lookup_time(request, kind: str, value: str, starts_at, ends_at) -> tuple[float, int]:
    """Seconds of one lookup as the service runs it, and the sessions matched; rolled back."""
    from django.db import transaction

    from authorities.lookups import lookup_matches_store
    from authorities.models import Lookup

    with transaction.atomic():
        lookup = Lookup.objects.create(
            request=request,
            kind=kind,
            ip=value if kind == "ip" else None,
            mac=value if kind == "mac" else "",
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=request.officer,
        )
        with timed() as t:
            sessions, _accounts = lookup_matches_store(lookup=lookup)
        transaction.set_rollback(True)
    return t.seconds, sessions


def lookup_plan(request, kind: str, value: str, starts_at, ends_at) -> str:
    from django.db import connection, transaction

    from authorities.lookups import lookup_sql
    from authorities.models import Lookup

    with transaction.atomic(), connection.cursor() as cursor:
        lookup = Lookup(
            request=request, kind=kind, ip=value if kind == "ip" else None, mac=value if kind == "mac" else ""
        )
        lookup.pk, lookup.starts_at, lookup.ends_at = 0, starts_at, ends_at
        sql, params = lookup_sql(lookup)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def indexes_present(db_name: str) -> list[str]:
    import psycopg

    with psycopg.connect(common.database_url(db_name)) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(LOOKUP_INDEXES)])
        return sorted(r[0] for r in rows)


def ingest_ratio() -> tuple[Result, dict]:
    """The ingest benchmark's ratio to psql \\copy, from its run in this `make bench` or a run of its own."""
    started = os.environ.get("BENCH_RUN_STARTED", "")
    report = common.results_read("ingest")
    if not (started and report and report["finished_at"] >= started):
        say("running the ingest benchmark (python -m bench.ingest) with the lookup indexes in place")
        subprocess.run([sys.executable, "-m", "bench.ingest"], cwd=common.ROOT, check=False)
        report = common.results_read("ingest")
    ratio_row = next((r for r in (report or {}).get("results", []) if r["what"].startswith("ingest ÷")), None)
    from bench.ingest import DB_NAME as INGEST_DB

    present = indexes_present(INGEST_DB)
    if ratio_row is None or len(present) != len(LOOKUP_INDEXES):
        return Result("ingest ÷ psql \\copy, lookup indexes in place", "did not run", "—", "—", False), {}
    ratio = ratio_row["values"]["ratio"]
    rate = next(r for r in report["results"] if r["what"].startswith("ingest "))
    return (
        Result(
            what="ingest ÷ psql \\copy, lookup indexes in place",
            figure=f"{ratio:.2f}× ({rate['figure']})",
            baseline=rate["baseline"],
            target=f"≥ {INGEST_TARGET}×",
            passed=ratio >= INGEST_TARGET,
            values={"ratio": ratio, "indexes": present},
        ),
        {"ingest": report},
    )


def measure(table: dict, lookups: int, warmup: int, explain_all: bool) -> tuple[list[Result], dict]:
    from django.conf import settings
    from django.utils import timezone

    from cloudportal.months import add_months

    rng = random.Random(17)
    request = _request()
    now = timezone.now()
    year = (add_months(now, -settings.ACCESS_LOG_RETENTION_MONTHS) + timedelta(minutes=1), now)
    ips = ip_samples(warmup + lookups, table["rows"], rng)
    macs = mac_samples(warmup + lookups, rng)
    cases = {
        "IP in a 1-hour window": [
            ("ip", ip, started - timedelta(minutes=30), started + timedelta(minutes=30)) for ip, started in ips
        ],
        "MAC over 12 months": [("mac", mac, *year) for mac in macs],
    }
    targets = {"IP in a 1-hour window": IP_TARGET_MS, "MAC over 12 months": MAC_TARGET_MS}
    results, details = [], {"explain": {}}
    for name, runs in cases.items():
        for run in runs[:warmup]:
            lookup_time(request, *run)
        times, matched = [], []
        for run in runs[warmup:]:
            seconds, sessions = lookup_time(request, *run)
            times.append(seconds)
            matched.append(sessions)
        if name.startswith("IP") and min(matched) < 1:
            raise RuntimeError("an IP lookup did not match the session it was made from")
        stats = common.summary_ms(times)
        stats["sessions_matched"] = {"min": min(matched), "max": max(matched), "total": sum(matched)}
        details[name] = stats
        results.append(
            Result(
                what=f"authority lookup: {name} (p95 of {lookups})",
                figure=f"{stats['p95_ms']:.1f} ms p95 ({stats['p50_ms']:.1f} p50, {stats['max_ms']:.1f} max)",
                baseline="—",
                target=f"p95 < {targets[name]:g} ms",
                passed=stats["p95_ms"] < targets[name],
                values=stats,
            )
        )
        for run in runs[warmup:] if explain_all else runs[warmup : warmup + 1]:
            details["explain"].setdefault(name, []).append(lookup_plan(request, *run))
    return results, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explain", action="store_true", help="print the plan of every lookup")
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_LOGS_ROWS", 20_000_000))
    parser.add_argument("--customer-rows", type=int, default=common.env_int("BENCH_LOGS_CUSTOMER_ROWS", 1_000_000))
    parser.add_argument("--lookups", type=int, default=common.env_int("BENCH_LOOKUPS", 200))
    parser.add_argument("--warmup", type=int, default=common.env_int("BENCH_WARMUP", 20))
    parser.add_argument("--no-ingest", action="store_true", help="leave out the ingest ratio")
    args = parser.parse_args(argv)

    config, table = logs.table_ensure(args.rows, args.customer_rows)
    present = indexes_present(logs.DB_NAME)
    if len(present) != len(LOOKUP_INDEXES):
        raise RuntimeError(f"the lookup indexes are missing from {logs.DB_NAME}: {present}")
    table["rows"] = config["rows"]
    common.load_warn()
    results, details = measure(table, args.lookups, args.warmup, args.explain)
    if args.explain:
        for name, plans in details["explain"].items():
            for plan in plans:
                common.out(f"\n{name}:\n{plan}")
    if args.rows != 20_000_000:  # a quick run says so in the table
        for result in results:
            result.what = result.what.replace("lookup:", f"lookup ({args.rows / 1e6:g}M rows):", 1)
    if not args.no_ingest:
        row, ingest = ingest_ratio()
        results.append(row)
        details.update(ingest)
    details.update({"table": table, "build": config, "server": common.server_info()})
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"Authority lookup benchmark ({path.relative_to(common.ROOT)})")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
