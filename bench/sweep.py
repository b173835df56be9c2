"""Retention sweep benchmark (SPEC §9): 5M expired sessions erased in < 1 s and in less
than twice the time for 100k; held sessions survive. Baseline: a batched DELETE of the
same rows, in the same run.

Database `cloudportal_bench_sweep`, made and migrated by the run. For each size (100k,
then 5M expired sessions; `--sizes` changes them):

- the table is emptied and loaded by `INSERT … SELECT generate_series`, the same rows
  every time (no randomness): the expired sessions spread evenly over the two months
  before the retention cutoff, plus 500,000 sessions that are kept (the two months
  after it); about 15,000 of each part belong to 20 customers (a session every few
  hours each, whatever the size: one subject's activity does not grow with the
  provider), the others to unregistered MAC and IP addresses, each used by about 100
  sessions (the pool grows with the size); the customers' daily usage rollup; VACUUM
  ANALYZE, CHECKPOINT;
- three legal holds are placed, as the admin places them: one on an account for a
  week, one on a MAC address for two days, one on an IP address for two days, all in
  the expired months;
- the sweep is `portal.sweep.retention_sweep(now=…)` as the beat task runs it,
  everything included (advisory lock, holds, every registry category, the customers'
  notices, the partitions ahead); `now` is the first of a month at midnight UTC, so the
  cutoff falls on a month boundary and the expired months are dropped whole (a daily
  sweep between two boundaries also deletes one day of rows in the boundary month,
  timed apart on its own line). The process is warmed up first (URLconf, email
  templates), as a worker that has run before is;
- then the same rows are loaded again and the baseline deletes them: `DELETE … WHERE
  started_at < cutoff AND NOT held`, 10,000 rows a transaction, as a sweep without
  partitions would;
- each side: wall time and WAL bytes (pg_current_wal_lsn before and after), then a
  check that no expired unheld row is left and every held row is.

Run: `python -m bench.sweep [--sizes 100000,5000000]`.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta

from bench import common, data
from bench.common import Result, say, timed

NAME = "sweep"
DB_NAME = "cloudportal_bench_sweep"
KEPT_ROWS = 500_000
CUSTOMERS = 20
#: Sessions of the bench customers in each part (expired, kept), whatever the size.
CUSTOMER_ROWS = 15_000
#: Sessions per unregistered MAC (and IP) address: the pool grows with the size.
POOL_ROWS = 100
TARGET_SECONDS = 1.0
TARGET_RATIO = 2.0
BATCH = 10_000


def _cutoff_month():
    """The month the retention cutoff starts: this month, 12 months back."""
    from django.conf import settings

    from cloudportal.months import month_add, month_start

    return month_add(month_start(datetime.now(UTC).date()), -settings.ACCESS_LOG_RETENTION_MONTHS)


def _moment(month) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def setup_once() -> dict:
    """Customers, their subscribers, collectors, sites and a Privacy officer (kept
    between sizes: only sessions, the rollup and holds are made again)."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from accesslogs.models import Site, Subscriber
    from accounts.groups import PRIVACY_OFFICER
    from accounts.models import User

    with transaction.atomic():
        officer, created = User.objects.get_or_create(email="officer@sweep.bench.test", defaults={"is_staff": True})
        if created:
            officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
        customers = [data.customer_ensure(f"customer{n}@sweep.bench.test") for n in range(CUSTOMERS)]
        subscribers = [Subscriber.objects.get_or_create(user=u, email=u.email)[0] for u in customers]
        collector = data.collector_ensure("bench-sweep")
        site, _new = Site.objects.get_or_create(name="Bench hotspot", address="1 place de la Bourse, Paris")
    return {
        "officer": officer.pk,
        "customers": [u.pk for u in customers],
        "subscribers": [s.pk for s in subscribers],
        "collector": collector.pk,
        "site": site.pk,
    }


def warm_up() -> None:
    """Load what a worker that has run before has loaded: the URLconf (emails link to
    pages) and the notice's templates and catalogues. Without it the first sweep of
    the process pays some 300 ms of imports that have nothing to do with erasing."""
    from django.conf import settings
    from django.urls import reverse

    from cloudportal.outbox import email_render

    reverse("home")
    for language, _name in settings.LANGUAGES:
        email_render(
            template="emails/sessions_erased", context={"count": 2, "months": 12, "url": ""}, language=language
        )


def load(ids: dict, expired: int) -> dict:
    """Empty the table and load `expired` sessions before the cutoff and KEPT_ROWS after."""
    from django.db import connection, transaction

    from accesslogs.models import DailyUsage, NetworkSession
    from accesslogs.partitions import partitions_ensure, partitions_forget
    from accesslogs.sweep import HELD_PARTITION
    from cloudportal.months import month_add
    from compliance.models import LegalHold, LegalHoldEvent

    table = NetworkSession._meta.db_table
    cutoff_month = _cutoff_month()
    cutoff = _moment(cutoff_month)
    expired_from = _moment(month_add(cutoff_month, -2))
    kept_to = _moment(month_add(cutoff_month, 2))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HELD_PARTITION}")
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(f"TRUNCATE {DailyUsage._meta.db_table}")
    LegalHoldEvent.objects.all().delete()
    LegalHold.objects.all().delete()
    partitions_forget()
    with transaction.atomic():
        partitions_ensure([month_add(cutoff_month, n) for n in range(-2, 2)])

    params = {
        "collector": ids["collector"],
        "site": ids["site"],
        "subscribers": ids["subscribers"],
        "n_customers": CUSTOMERS,
    }
    # Row g: one in `every` is a bench customer's (about CUSTOMER_ROWS of them in all,
    # whatever the size, as one subject's activity does not grow with the provider);
    # the others come from a pool of unregistered MAC and IP addresses that grows with
    # the size, each address used by about POOL_ROWS sessions.
    select = f"""
        SELECT %(collector)s, %(prefix)s || g,
               CASE WHEN g %% %(every)s = 0
                    THEN (%(subscribers)s::bigint[])[1 + (g / %(every)s) %% %(n_customers)s] END,
               CASE WHEN g %% %(every)s = 0
                    THEN '02:5A:00:00:00:' || lpad(to_hex((g / %(every)s) %% %(n_customers)s), 2, '0')
                    ELSE {data.mac_sql("02:5B:00:", "(g * 40503) %% %(pool)s", octets=3)} END,
               '10.0.0.0'::inet + CASE WHEN g %% %(every)s = 0 THEN 0 ELSE 1 + (g * 7919) %% %(pool)s END,
               %(site)s,
               %(start)s + g * %(step)s * interval '1 second',
               %(start)s + g * %(step)s * interval '1 second' + (g %% 180) * interval '1 minute',
               g %% 1000000, g %% 100000
        FROM generate_series(0::bigint, %(count)s::bigint - 1) AS g
    """
    with timed() as t, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        for prefix, start, end, count in (
            ("x", expired_from, cutoff, expired),
            ("k", cutoff, kept_to, KEPT_ROWS),
        ):
            step = (end - start).total_seconds() / count
            sizes = {"every": max(1, count // CUSTOMER_ROWS), "pool": max(1000, count // POOL_ROWS)}
            data.sessions_insert(
                select, {**params, **sizes, "prefix": prefix, "start": start, "count": count, "step": step}
            )
        data.daily_usage_from_sessions()
        cursor.execute("SET synchronous_commit = on")
        common.vacuum_analyze(table, DailyUsage._meta.db_table, checkpoint=True)
    say(f"  loaded {expired:,} expired and {KEPT_ROWS:,} kept sessions in {t.seconds:.1f} s")
    return {"cutoff": cutoff, "expired_from": expired_from}


def holds_place(ids: dict, layout: dict) -> None:
    from accounts.models import User
    from compliance.services import legal_hold_place

    officer = User.objects.get(pk=ids["officer"])
    start = layout["expired_from"] + timedelta(days=10)
    common_values = {"authority": "Bench court", "review_on": start.date() + timedelta(days=900)}
    for scope, subject, offset, days in (
        ("account", {"account": User.objects.get(pk=ids["customers"][3])}, 0, 7),
        ("mac", {"mac": "02:5A:00:00:00:05"}, 20, 2),
        ("ip", {"ip": "10.0.0.78"}, 30, 2),
    ):
        legal_hold_place(
            staff=officer,
            scope=scope,
            starts_at=start + timedelta(days=offset),
            ends_at=start + timedelta(days=offset + days),
            reference=f"bench-{scope}",
            **subject,
            **common_values,
        )


def _counts(cutoff: datetime) -> dict:
    """Expired rows, and those of them held (by the predicate the sweep uses)."""
    from accesslogs.holds import sessions_held_q
    from accesslogs.models import NetworkSession

    expired = NetworkSession.objects.filter(started_at__lt=cutoff)
    return {"expired": expired.count(), "held": expired.filter(sessions_held_q()).count()}


def _wal_lsn() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def _wal_bytes(since: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)::bigint", [since])
        return int(cursor.fetchone()[0])


def sweep_measure(cutoff: datetime) -> dict:
    from cloudportal.months import add_months
    from portal.sweep import retention_sweep

    now = add_months(cutoff, 12)
    lsn = _wal_lsn()
    with timed() as t:
        run = retention_sweep(now=now)
    return {"seconds": t.seconds, "wal_bytes": _wal_bytes(lsn), "counts": run.counts}


def delete_measure(cutoff: datetime) -> dict:
    """The baseline: what a sweep without partitions does. Batches of BATCH ids along
    the primary key (id, started_at), one transaction each: every batch is an index
    range, so none rereads the rows (dead until VACUUM) that earlier ones deleted."""
    from django.db import connection, transaction

    from accesslogs.holds import sessions_held_sql
    from accesslogs.models import NetworkSession

    table = NetworkSession._meta.db_table
    held_sql, held_params = sessions_held_sql()
    statement = f"DELETE FROM {table} WHERE id >= %s AND id < %s AND started_at < %s AND {held_sql} IS NOT TRUE"  # noqa: S608
    deleted = 0
    lsn = _wal_lsn()
    with timed() as t:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(id), max(id) FROM {table} WHERE started_at < %s", [cutoff])  # noqa: S608
            low, high = cursor.fetchone()
        for first in range(low, high + 1, BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [first, first + BATCH, cutoff, *held_params])
                deleted += cursor.rowcount
    return {"seconds": t.seconds, "wal_bytes": _wal_bytes(lsn), "deleted": deleted}


def boundary_day_measure(ids: dict, expired: int) -> dict:
    """A sweep on a day between two month boundaries: the expired months are gone,
    and one more day of sessions (at the same density) is past the cutoff."""
    from cloudportal.months import add_months
    from portal.sweep import retention_sweep

    layout = load(ids, expired)
    retention_sweep(now=add_months(layout["cutoff"], 12))  # the month-boundary sweep
    lsn = _wal_lsn()
    with timed() as t:
        run = retention_sweep(now=add_months(layout["cutoff"], 12) + timedelta(days=1))
    return {
        "seconds": t.seconds,
        "wal_bytes": _wal_bytes(lsn),
        "deleted": run.counts["access_logs"]["sessions deleted"],
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def measure_size(ids: dict, expired: int) -> dict:
    say(f"{expired:,} expired sessions: the sweep")
    layout = load(ids, expired)
    holds_place(ids, layout)
    before = _counts(layout["cutoff"])
    sweep = sweep_measure(layout["cutoff"])
    after = _counts(layout["cutoff"])
    sweep["erased"] = before["expired"] - after["expired"]
    sweep["held_before"], sweep["left_after"] = before["held"], after["expired"]
    sweep["ok"] = after["expired"] == after["held"] == before["held"] > 0
    say(
        f"  sweep: {sweep['seconds'] * 1000:,.0f} ms, WAL {_mb(sweep['wal_bytes'])}, erased {sweep['erased']:,}, "
        f"held {before['held']:,} -> {after['held']:,} left"
    )

    say(f"{expired:,} expired sessions: the batched DELETE")
    layout = load(ids, expired)
    holds_place(ids, layout)
    before_delete = _counts(layout["cutoff"])
    delete = delete_measure(layout["cutoff"])
    after_delete = _counts(layout["cutoff"])
    delete["ok"] = after_delete["expired"] == after_delete["held"] == before_delete["held"]
    say(f"  DELETE: {delete['seconds'] * 1000:,.0f} ms, WAL {_mb(delete['wal_bytes'])}, deleted {delete['deleted']:,}")
    return {"expired": expired, "held": before["held"], "sweep": sweep, "delete": delete}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SWEEP_SIZES", "100000,5000000"))
    parser.add_argument("--no-boundary-day", action="store_true", help="skip the day-between-boundaries line")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if len(sizes) != 2 or sizes[0] >= sizes[1]:
        parser.error("--sizes takes two sizes, the small one first")

    common.django_setup(DB_NAME)
    common.load_warn()
    ids = setup_once()
    warm_up()
    small, large = (measure_size(ids, n) for n in sizes)
    details = {"sizes": sizes, "small": small, "large": large, "server": common.server_info()}

    def line(m: dict) -> tuple[str, str]:
        s, d = m["sweep"], m["delete"]
        return (
            f"{s['seconds'] * 1000:,.0f} ms, WAL {_mb(s['wal_bytes'])}, {m['held']:,} held kept",
            f"batched DELETE {d['seconds'] * 1000:,.0f} ms, WAL {_mb(d['wal_bytes'])}",
        )

    ratio = large["sweep"]["seconds"] / small["sweep"]["seconds"]
    results = [
        Result(
            f"retention sweep, {small['expired']:,} expired sessions",
            *line(small),
            "held rows survive",
            small["sweep"]["ok"] and small["delete"]["ok"],
            values=small,
        ),
        Result(
            f"retention sweep, {large['expired']:,} expired sessions",
            *line(large),
            f"< {TARGET_SECONDS:g} s, < {TARGET_RATIO:g}x the {small['expired']:,} time ({ratio:.2f}x); held survive",
            large["sweep"]["seconds"] < TARGET_SECONDS
            and ratio < TARGET_RATIO
            and large["sweep"]["ok"]
            and large["delete"]["ok"],
            values={**large, "ratio_to_small": ratio},
        ),
    ]
    if not args.no_boundary_day:
        say("a sweep between two month boundaries (one day of sessions past the cutoff)")
        day = boundary_day_measure(ids, large["expired"])
        details["boundary_day"] = day
        say(f"  {day['seconds'] * 1000:,.0f} ms, WAL {_mb(day['wal_bytes'])}, {day['deleted']:,} deleted")
        results.append(
            Result(
                f"daily sweep mid-month: one day ({day['deleted']:,} sessions) in the boundary month",
                f"{day['seconds'] * 1000:,.0f} ms, WAL {_mb(day['wal_bytes'])}",
                "—",
                "— (for information)",
                None,
                values=day,
            )
        )
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"retention sweep benchmark ({path.relative_to(common.ROOT)})")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
