"""Ingest benchmark (SPEC §9): 1M sessions through the ingest code path, beside
`psql \\copy` of the same rows into the same table.

- Reference data, kept across runs: 20,000 MAC addresses seen on the network, half of
  them registered as devices of 5,000 customers (two each); one collector.
- The batch: a CSV file of BENCH_ROWS sessions (default 1,000,000) as equipment sends
  them: in time order over the last 11 months (BENCH_INGEST_DAYS, default 330), local
  times with their UTC offset, 200 sites, IPv4 and 10 % IPv6, a fifth of the MAC
  addresses spelt aa-bb-cc-dd-ee-ff, unique session ids. Half of the sessions are
  attributed to a customer.
- (a) `sessions_ingest()` called in-process on the file, as `manage.py ingest_sessions`
  does, into a freshly truncated sessions table with all its indexes; rows/s from the
  call to its return (commit included). Every run starts cold: the MAC and IP parsing
  caches and the known-partitions set are cleared first, as in a new process. As in
  production, the call queues the batch's daily usage rollup for a worker (no worker
  listens on the bench's broker); the bench then runs that rollup itself and reports
  its time on a line of its own.
- (b) the baseline: the rows (a) stored are exported once with
  `\\copy (SELECT <the columns ingest writes> … ORDER BY id) TO file CSV`, then loaded
  with `psql -c "\\copy accesslogs_networksession (<columns>) FROM file CSV"` into a
  freshly truncated table; timed around the psql process.
- Before every run: TRUNCATE sessions and daily usage, reset devices' last seen,
  VACUUM ANALYZE, CHECKPOINT. Runs alternate I C C I I C… (BENCH_REPEAT pairs, default
  3) so that neither side profits from the other's caches; the figures are the medians.

Run: `python -m bench.ingest [--rows N] [--repeat N] [--days N] [--profile] [--keep]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import common, data
from bench.common import Result, say, timed

NAME = "ingest"
DB_NAME = "cloudportal_bench"
CUSTOMERS = 5_000
MACS = 20_000
REGISTERED = 10_000  # the first REGISTERED MAC addresses: two devices per customer
SITES = 200
COLLECTOR = "bench-ingest"
EMAIL_DOMAIN = "ingest.bench.test"
TARGET_RATE = 150_000
TARGET_RATIO = 0.9


def macs_make() -> list[str]:
    """MAC addresses in canonical form: unicast, never all-zero, all different."""
    rng = random.Random(7)
    found: dict[int, None] = {}
    while len(found) < MACS:
        value = rng.getrandbits(48) & ~(1 << 40)  # clear the multicast bit of the first octet
        if value:
            found[value] = None
    return [":".join(f"{(value >> shift) & 0xFF:02X}" for shift in range(40, -8, -8)) for value in found]


def reference_data_ensure(macs: list[str]):
    """Customers, their devices and the collector; created once, kept across runs."""
    from django.db import transaction

    from accounts.models import User
    from devices.models import Device

    customers = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN)
    devices = Device.objects.filter(user__email__endswith="@" + EMAIL_DOMAIN)
    if customers.count() != CUSTOMERS or devices.count() != REGISTERED:
        with timed() as t, transaction.atomic():
            Device.objects.filter(mac__in=macs).delete()
            customers.delete()
            users = data.customers_create((f"c{i:05d}@{EMAIL_DOMAIN}" for i in range(CUSTOMERS)), batch_size=2000)
            data.devices_create(
                ((users[i // 2], macs[i], f"Device {i % 2 + 1}") for i in range(REGISTERED)), batch_size=2000
            )
        say(f"created {CUSTOMERS:,} customers with {REGISTERED:,} devices in {t.seconds:.1f} s")
    return data.collector_ensure(COLLECTOR)


def csv_write(path: Path, rows: int, macs: list[str], days: int) -> None:
    """The batch, in time order over the last `days` days, as a collector would send it."""
    from django.conf import settings

    from accesslogs.ingest import FIELDS

    rng = random.Random(42)
    zone = ZoneInfo(settings.TIME_ZONE)
    latest = datetime.now().timestamp() - 4 * 3600  # sessions last up to 3 h: all ended by now
    earliest = latest - days * 86400
    starts = sorted(rng.randrange(int(earliest), int(latest)) for _ in range(rows))
    sites = [(f"Hotspot {i:03d}", f"{i} rue de la Paix, 75002 Paris") for i in range(1, SITES + 1)]
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(FIELDS)
        for i, start in enumerate(starts):
            device = rng.randrange(MACS)
            mac = macs[device]
            if i % 5 == 0:
                mac = mac.lower().replace(":", "-")
            site = rng.randrange(SITES)
            if i % 10 == 3:
                ip = f"2001:db8:{site:x}:{device:x}:0:0:0:{rng.randrange(1, 0xFFFF):x}"
            else:
                ip = f"10.{site}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            end = start + rng.randrange(10, 3 * 3600)
            writer.writerow(
                (
                    f"ap{site:03d}-{i:08x}",
                    mac,
                    ip,
                    *sites[site],
                    datetime.fromtimestamp(start, zone).isoformat(),
                    datetime.fromtimestamp(end, zone).isoformat(),
                    rng.randrange(2_000_000_000),
                    rng.randrange(200_000_000),
                )
            )


def tables_reset() -> None:
    """Empty sessions and usage, forget last-seen times; flush so each run starts equal."""
    from django.db import connection

    from accesslogs.models import DailyUsage, IngestBatch, NetworkSession
    from devices.models import Device

    tables = [NetworkSession._meta.db_table, DailyUsage._meta.db_table, IngestBatch._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
        cursor.execute(f"UPDATE {Device._meta.db_table} SET last_seen_at = NULL WHERE last_seen_at IS NOT NULL")
        cursor.execute(f"VACUUM ANALYZE {Device._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {DailyUsage._meta.db_table}")
        cursor.execute("CHECKPOINT")


def caches_clear() -> None:
    """What a fresh `manage.py ingest_sessions` process starts without."""
    from accesslogs import partitions
    from accesslogs.ingest.check import ip_compressed
    from devices.mac import mac_parse

    mac_parse.cache_clear()
    ip_compressed.cache_clear()
    partitions.partitions_forget()


def sessions_count() -> int:
    from accesslogs.models import NetworkSession

    return NetworkSession.objects.count()


def ingest_run(collector, path: Path, rows: int) -> tuple[float, float]:
    """Seconds of the ingest call, then of the rollup task it queued, run here as a
    worker would run it (the bench's broker has no worker)."""
    from accesslogs.ingest import rewinding, sessions_ingest
    from accesslogs.models import DailyUsage, IngestBatch
    from accesslogs.rollup import batch_roll_up

    tables_reset()
    caches_clear()
    with path.open("rb") as stream, timed() as t:
        result = sessions_ingest(collector=collector, source=rewinding(stream), fmt="csv")
    if result.accepted != rows or result.duplicates:
        raise RuntimeError(f"ingest accepted {result.accepted} and found {result.duplicates} duplicates of {rows}")
    if DailyUsage.objects.exists():
        raise RuntimeError("the rollup ran inside the ingest call: the bench must queue tasks, not run them")
    with timed() as t_rollup:
        if not batch_roll_up(batch_id=IngestBatch.objects.get().pk):
            raise RuntimeError("the batch was rolled up already")
    return t.seconds, t_rollup.seconds


def baseline_export(path: Path) -> None:
    from accesslogs.ingest import COLUMNS
    from accesslogs.models import NetworkSession

    table = NetworkSession._meta.db_table
    common.psql(f"\\copy (SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY id) TO '{path}' CSV", db_name=DB_NAME)


def baseline_run(path: Path, rows: int) -> float:
    from accesslogs.ingest import COLUMNS
    from accesslogs.models import NetworkSession

    tables_reset()
    table = NetworkSession._meta.db_table
    with timed() as t:
        common.psql(f"\\copy {table} ({', '.join(COLUMNS)}) FROM '{path}' CSV", db_name=DB_NAME)
    stored = sessions_count()
    if stored != rows:
        raise RuntimeError(f"\\copy stored {stored} rows of {rows}")
    return t.seconds


def parse_only(path: Path, limit: int | None = None, profile: bool = False) -> tuple[int, float]:
    """Diagnostic: read and check the batch as the row-by-row path does, without the
    database. Returns (0, 0) if the ingest package no longer has these parts."""
    try:
        from accesslogs.ingest.check import Checker, parse_chunks
        from accesslogs.ingest.read import csv_records
    except ImportError:
        return 0, 0.0
    caches_clear()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    rows = 0
    with path.open("rb") as stream, timed() as t:
        if profiler:
            profiler.enable()
        for chunk in parse_chunks(csv_records(stream), Checker()):
            # A list of rows, or a tuple that starts with one.
            rows += len(chunk[0] if isinstance(chunk, tuple) else chunk)
            if limit and rows >= limit:
                break
        if profiler:
            profiler.disable()
    if profiler:
        import pstats

        common.out(f"\nProfile of reading and checking {rows:,} rows (no database), by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return rows, t.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_ROWS", 1_000_000))
    parser.add_argument("--repeat", type=int, default=common.env_int("BENCH_REPEAT", 3))
    parser.add_argument(
        "--days", type=int, default=common.env_int("BENCH_INGEST_DAYS", 330), help="time span of the batch (330)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile reading and checking 200,000 rows")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    args = parser.parse_args(argv)
    rows, repeat = args.rows, max(1, args.repeat)

    # As in production, ingest queues its rollup task for a worker; none listens on the
    # bench's broker, and each run rolls its batch up itself, timed apart.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["CELERY_BROKER_URL"] = common.REDIS_URL
    common.django_setup(DB_NAME)
    macs = macs_make()
    collector = reference_data_ensure(macs)
    workdir = Path(tempfile.mkdtemp(prefix="cloudportal-bench-ingest-"))
    batch, exported = workdir / "sessions.csv", workdir / "baseline.csv"
    try:
        with timed() as t:
            csv_write(batch, rows, macs, args.days)
        say(f"wrote {rows:,} sessions to {batch} ({batch.stat().st_size / 2**20:,.0f} MiB) in {t.seconds:.1f} s")

        parsed, parse_seconds = parse_only(batch)
        if parsed:
            say(f"diagnostic, reading and checking only (no database): {common.rate(parsed, parse_seconds)}")
        if args.profile:
            parse_only(batch, limit=200_000, profile=True)

        common.load_warn()
        order = []
        for k in range(repeat):
            order += ["ingest", "copy"] if k % 2 == 0 else ["copy", "ingest"]
        times: dict[str, list[float]] = {"ingest": [], "copy": [], "rollup": []}
        for kind in order:
            if kind == "ingest":
                seconds, rollup_seconds = ingest_run(collector, batch, rows)
                times["rollup"].append(rollup_seconds)
                say(f"  then the rollup task on a worker: {rollup_seconds:.2f} s")
                if not exported.exists():
                    baseline_export(exported)
            else:
                seconds = baseline_run(exported, rows)
            times[kind].append(seconds)
            label = "sessions_ingest" if kind == "ingest" else "psql \\copy    "
            say(f"{label}: {rows:,} rows in {seconds:6.2f} s = {common.rate(rows, seconds)}")
        tables_reset()
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    ingest_s, copy_s = statistics.median(times["ingest"]), statistics.median(times["copy"])
    ingest_rate, copy_rate = rows / ingest_s, rows / copy_s
    ratio = ingest_rate / copy_rate
    size = f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"
    results = [
        Result(
            what=f"ingest {size} sessions (median of {repeat})",
            figure=f"{ingest_rate:,.0f} rows/s",
            baseline=f"{copy_rate:,.0f} rows/s (psql \\copy)",
            target=f"≥ {TARGET_RATE:,} rows/s",
            passed=ingest_rate >= TARGET_RATE,
            values={"rows": rows, "rows_per_s": round(ingest_rate), "baseline_rows_per_s": round(copy_rate)},
        ),
        Result(
            what="ingest ÷ psql \\copy",
            figure=f"{ratio:.2f}×",
            baseline="1.00×",
            target=f"≥ {TARGET_RATIO}×",
            passed=ratio >= TARGET_RATIO,
            values={"ratio": round(ratio, 3)},
        ),
    ]
    rollup_s = statistics.median(times["rollup"])
    results.append(
        Result(
            what="  then, on a worker: the batch's daily usage rollup",
            figure=f"{rollup_s:.2f} s",
            baseline="—",
            target="—",
            passed=None,
            values={"seconds": round(rollup_s, 3)},
        )
    )
    if parsed:
        results.append(
            Result(
                what="  diagnostic: read and check only, no DB",
                figure=common.rate(parsed, parse_seconds),
                baseline="—",
                target="—",
                passed=None,
                values={"rows": parsed, "rows_per_s": round(parsed / parse_seconds)},
            )
        )
    details = {
        "rows": rows,
        "days": args.days,
        "repeat": repeat,
        "statistic": "median",
        "order": order,
        "seconds": times,
        "best_rows_per_s": {k: round(rows / min(v)) for k, v in times.items()},
        "server": common.server_info(),
    }
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"Ingest benchmark ({path.relative_to(common.ROOT)})")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
