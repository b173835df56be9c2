"""/logs/ benchmark (SPEC §9): page 1 and page 1,000 of a customer with 1M sessions in
a 20M-row sessions table; p95 < 20 ms each, and the same number of SQL queries.

The table (database `cloudportal_bench_logs`), built once and reused while its
description and the schema's migrations are unchanged (`--rebuild` forces it):
- BENCH_LOGS_ROWS sessions (default 20,000,000) over the last 12 months, in time order
  as ingest would store them, written straight into the partitioned table by
  `INSERT … SELECT generate_series` month by month, with its indexes and constraints
  taken off during the load and put back from their own definitions afterwards;
- one session in 20 (BENCH_LOGS_CUSTOMER_ROWS, default 1,000,000) belongs to the bench
  customer, spread over their 3 devices; of the others, 70 % belong to 200,000 other
  customers (one device each) and 30 % to MAC addresses nobody registered;
- 4 collectors, 200 sites, IPv4 and 10 % IPv6; daily usage of the bench customer from
  one aggregate INSERT … SELECT … GROUP BY local day; VACUUM ANALYZE.

The measurement, in-process with Django's test Client signed in as the bench customer
(DEBUG off, cached template loader): page 1 is /logs/; page 1,000 is reached by following
the "Older" link 999 times, and its cursor is checked against the one computed from
the database with the selector's own cursor_encode(). After BENCH_WARMUP (20) requests
each, BENCH_REQUESTS (200) requests of each page, alternating, give p50/p95/max; one
more request of each, with queries captured, gives the number of queries and the time
spent in SQL; the plan (EXPLAIN ANALYZE) of each page's slowest SELECT goes into the
JSON file, and `--explain` prints the plans of all of them.

Run: `python -m bench.logs [--rebuild] [--explain]`; quick: `--rows 2000000 --customer-rows 100000`.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from bench import common, data
from bench.common import Result, say, timed
from bench.inprocess import explain, older_link, queries_of, rows_on_page

NAME = "logs"
DB_NAME = "cloudportal_bench_logs"
OTHER_CUSTOMERS = 200_000
COLLECTORS = 4
SITES = 200
CUSTOMER_EMAIL = "customer@logs.bench.test"
CUSTOMER_MACS = ["3C:22:FB:10:20:01", "3C:22:FB:10:20:02", "F2:6A:1B:77:30:5C"]
PAGE_SIZE = 50
DEEP_PAGE = 1_000
TARGET_MS = 20.0
#: Bump when the way the table is built changes: the next run rebuilds it.
BUILD_VERSION = 2


# --- Building the table -----------------------------------------------------------


def config_make(total: int, customer_rows: int) -> dict:
    return {
        "version": BUILD_VERSION,
        "rows": total,
        "stride": max(1, total // customer_rows),
        "other_customers": OTHER_CUSTOMERS,
        "migrations": common.migrations_fingerprint(),
    }


OTHER_PREFIX = "5C:00:"  # registered devices of the other customers (unicast, universal)
LOOSE_PREFIX = "DA:00:"  # nobody's: randomised addresses (locally administered)


def _other_email(k: int) -> str:
    return f"c{k:06d}@logs.bench.test"


def build(config: dict) -> None:
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from accesslogs.models import Collector, DailyUsage, NetworkSession, Subscriber
    from accesslogs.partitions import partitions_ensure
    from accounts.models import User
    from cloudportal.months import add_months, months_between
    from devices.models import Device

    total, stride = config["rows"], config["stride"]
    table = NetworkSession._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET synchronous_commit = off")

    with timed() as t, transaction.atomic():
        customer = data.customer_ensure(CUSTOMER_EMAIL)
        data.devices_create(zip([customer] * 3, CUSTOMER_MACS, ["Laptop", "Phone", "Tablet"], strict=True))
        others = data.customers_create(_other_email(k) for k in range(OTHER_CUSTOMERS))
        data.devices_create((user, data.mac(OTHER_PREFIX, k), "") for k, user in enumerate(others))
        subscriber = Subscriber.objects.create(user=customer, email=CUSTOMER_EMAIL)
        other_subscribers = Subscriber.objects.bulk_create(
            [Subscriber(user=user, email=user.email) for user in others], batch_size=5000
        )
        collectors = [data.collector_ensure(f"bench-logs-{n}") for n in range(1, COLLECTORS + 1)]
        sites = data.sites_ensure(SITES, name="Hotspot {n:03d}", address="{n} avenue de l'Opéra, 75001 Paris")
    say(f"created the bench customer, {OTHER_CUSTOMERS:,} other customers and their devices in {t.seconds:.1f} s")

    now = timezone.now()
    latest = now - timedelta(hours=4)  # sessions last up to 3 hours: all ended by now
    earliest = add_months(now, -settings.ACCESS_LOG_RETENTION_MONTHS) + timedelta(days=1)
    months = months_between(earliest, latest)
    with transaction.atomic():
        partitions_ensure(months)
    # Slices of time at month boundaries (UTC, as the partitions), rows in proportion.
    bounds = [earliest] + [datetime(m.year, m.month, m.day, tzinfo=UTC) for m in months[1:]] + [latest]
    span = (latest - earliest).total_seconds()

    with connection.cursor() as cursor:
        restore = data.keys_take_off(cursor, table)
    params = {
        "customer": subscriber.pk,
        "macs": CUSTOMER_MACS,
        "others": [s.pk for s in other_subscribers],
        "n_others": len(other_subscribers),
        "collectors": [c.pk for c in collectors],
        "n_collectors": len(collectors),
        "sites": sites,
        "n_sites": len(sites),
        "stride": stride,
    }
    k = "((g * 2654435761) %% %(n_others)s)"
    select = f"""
        SELECT g + 1,
               (%(collectors)s::bigint[])[1 + g %% %(n_collectors)s],
               's' || to_hex(g + 1),
               CASE WHEN g %% %(stride)s = 0 THEN %(customer)s
                    WHEN g %% 10 < 7 THEN (%(others)s::bigint[])[1 + {k}] END,
               CASE WHEN g %% %(stride)s = 0 THEN (%(macs)s::text[])[1 + (g / %(stride)s) %% 3]
                    WHEN g %% 10 < 7 THEN {data.mac_sql(OTHER_PREFIX, k)}
                    ELSE {data.mac_sql(LOOSE_PREFIX, "(g * 40503) %% 4294967296")} END,
               CASE WHEN g %% 10 = 3 THEN '2001:db8::'::inet + g ELSE '10.0.0.0'::inet + (g %% 16777216) END,
               (%(sites)s::bigint[])[1 + (g / 7) %% %(n_sites)s],
               started_at,
               started_at + random() * interval '3 hours',
               (random() * 2e9)::bigint,
               (random() * 2e8)::bigint
        FROM (SELECT g, %(start)s + (g - %(first)s + random()) * %(step)s * interval '1 second' AS started_at
              FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) AS rows
    """
    first = 0
    with timed() as t_load:
        for n, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
            last = total - 1 if n == len(bounds) - 2 else round(total * (end - earliest).total_seconds() / span) - 1
            count = last - first + 1
            step = (end - start).total_seconds() / count
            with timed() as t:
                data.sessions_insert(
                    select, {**params, "start": start, "first": first, "last": last, "step": step}, ids=True
                )
            say(f"  {start:%Y-%m}: {count:,} sessions in {t.seconds:.1f} s")
            first = last + 1
    say(f"loaded {total:,} sessions in {t_load.seconds:.1f} s; putting the indexes back")

    with timed() as t, connection.cursor() as cursor:
        for statement in restore:
            with timed() as t_one:
                cursor.execute(statement)
            say(f"  {t_one.seconds:5.1f} s  {statement[:110]}")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [total])
        data.daily_usage_from_sessions(subscriber_id=subscriber.pk)
        cursor.execute(
            f"UPDATE {Device._meta.db_table} AS d SET last_seen_at = s.seen "  # noqa: S608
            f"FROM (SELECT mac, max(ended_at) AS seen FROM {table} WHERE subscriber_id = %s GROUP BY mac) AS s "
            "WHERE d.mac = s.mac",
            [subscriber.pk],
        )
    say(f"indexes, constraints and daily usage in {t.seconds:.1f} s; VACUUM ANALYZE")
    with timed() as t:
        tables = [table, DailyUsage._meta.db_table, Device._meta.db_table, User._meta.db_table]
        common.vacuum_analyze(*tables, checkpoint=True)
    say(f"vacuumed and analysed in {t.seconds:.1f} s")
    Collector.objects.update(last_used_at=now)


def table_check(config: dict) -> dict:
    """The counts the figures rest on."""
    from django.db import connection

    from accesslogs.models import NetworkSession
    from accounts.models import User

    customer = User.objects.get(email=CUSTOMER_EMAIL)
    table = NetworkSession._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(c.reltuples)::bigint, pg_size_pretty(sum(pg_total_relation_size(c.oid))) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [table],
        )
        estimated, size = cursor.fetchone()
    customer_rows = NetworkSession.objects.filter(subscriber__user=customer).count()
    expected = len(range(0, config["rows"], config["stride"]))
    if customer_rows != expected:
        raise RuntimeError(f"the bench customer has {customer_rows:,} sessions, not {expected:,}: run with --rebuild")
    if abs(estimated - config["rows"]) > config["rows"] * 0.05:
        raise RuntimeError(f"the table holds about {estimated:,} sessions, not {config['rows']:,}: run with --rebuild")
    return {
        "customer_id": customer.pk,
        "customer_sessions": customer_rows,
        "table_rows_estimate": estimated,
        "size": size,
    }


# --- Measuring --------------------------------------------------------------------


def expected_cursor(customer_id: int, page: int) -> str:
    """The cursor of page `page` computed from the database: the last session of the page before."""
    from accesslogs.models import NetworkSession
    from accesslogs.selectors import cursor_encode

    last_of_previous = (
        NetworkSession.objects.filter(subscriber__user_id=customer_id)
        .order_by("-started_at", "-id")
        .only("id", "started_at")[(page - 1) * PAGE_SIZE - 1]
    )
    return cursor_encode(last_of_previous)


def measure(customer_id: int, warmup: int, requests: int, explain_all: bool) -> tuple[list[Result], dict]:
    from django.conf import settings
    from django.template import engines
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from cloudportal.fragments import customer_changed

    loaders = [type(loader).__module__ for loader in engines["django"].engine.template_loaders]
    host = next(h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*")
    client = Client(HTTP_HOST=host)
    client.force_login(User.objects.get(pk=customer_id))
    first = reverse("logs:list")

    def get(url: str) -> str:
        # Built from the database each time, not read from the page cache: the
        # figure is the database's path (cloudportal/fragments.py).
        customer_changed(customer_id)
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response.content.decode()

    html = get(first)
    url = first
    with timed() as t:
        for page in range(2, DEEP_PAGE + 1):
            older = older_link(html, url)
            if older is None:
                raise RuntimeError(f"page {page - 1} ({url}) has no link to older sessions")
            url = older
            html = get(url)
    deep = url
    say(f"walked the Older links to page {DEEP_PAGE:,} in {t.seconds:.1f} s: {deep}")
    for name, page_html in (("page 1", get(first)), (f"page {DEEP_PAGE:,}", html)):
        if rows_on_page(page_html) != PAGE_SIZE:
            raise RuntimeError(f"{name} lists {rows_on_page(page_html)} sessions, not {PAGE_SIZE}")
    cursor = expected_cursor(customer_id, DEEP_PAGE)
    cursor_ok = cursor in dict(parse_qsl(urlsplit(deep).query)).values()
    if not cursor_ok:
        raise RuntimeError(f"page {DEEP_PAGE:,} by the links is {deep}; by the database its cursor is {cursor}")

    pages = {"page 1": first, f"page {DEEP_PAGE:,}": deep}
    for _ in range(warmup):
        for url in pages.values():
            get(url)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(requests):
        for name, url in pages.items():
            with timed() as t:
                get(url)
            times[name].append(t.seconds)
    queries = {}
    for name, url in pages.items():
        customer_changed(customer_id)
        queries[name] = queries_of(client, url)
    counts = {name: len(q) for name, q in queries.items()}
    same = len(set(counts.values())) == 1

    results, details = [], {"urls": pages, "loaders": loaders, "queries": queries, "explain": {}}
    for name in pages:
        stats = common.summary_ms(times[name])
        details[name] = stats
        results.append(
            Result(
                what=f"/logs/ {name} (p95 of {requests})",
                figure=f"{stats['p95_ms']:.1f} ms p95 ({stats['p50_ms']:.1f} p50, {stats['max_ms']:.1f} max)",
                baseline="—",
                target=f"p95 < {TARGET_MS:g} ms",
                passed=stats["p95_ms"] < TARGET_MS,
                values=stats,
            )
        )
    sql_ms = {name: round(sum(q["ms"] for q in captured), 2) for name, captured in queries.items()}
    results.append(
        Result(
            what="  diagnostic: time in SQL in one request",
            figure=" and ".join(f"{ms:.1f} ms" for ms in sql_ms.values()),
            baseline="—",
            target="—",
            passed=None,
            values=sql_ms,
        )
    )
    results.append(
        Result(
            what="/logs/ queries: page 1, page 1,000",
            figure=" and ".join(str(c) for c in counts.values()),
            baseline="—",
            target="the same",
            passed=same,
            values=counts,
        )
    )
    # The costliest queries of the deep page, with their plans.
    for name, captured in queries.items():
        selects = [q for q in captured if q["sql"].lstrip().upper().startswith("SELECT")]
        worst = sorted(selects, key=lambda q: q["ms"], reverse=True)
        for q in worst if explain_all else worst[:1]:
            details["explain"].setdefault(name, []).append({"sql": q["sql"], "plan": explain(q["sql"])})
    return results, details


def table_ensure(rows: int, customer_rows: int, *, rebuild: bool = False) -> tuple[dict, dict]:
    """Django set up on the bench database, with the sessions table of that size built
    (or reused while its description and the migrations are unchanged); (the build's
    description, the table's counts). The lookup benchmark measures on it too."""
    config = config_make(rows, customer_rows)
    built = common.built_read(DB_NAME, NAME)
    reason = None
    if rebuild:
        reason = "asked"
    elif built is None:
        reason = "none yet"
    elif {k: built.get(k) for k in config} != config:
        reason = "its description or the migrations changed"
    if reason:
        common.database_drop(DB_NAME)
    common.django_setup(DB_NAME)
    if reason is None and common.built_read(DB_NAME, NAME) is None:  # django_setup made the database again
        reason = "the migrations changed"
    if reason:
        say(f"building the sessions table ({reason}): {rows:,} rows; this takes minutes at full size")
        with timed() as t:
            build(config)
        config["built_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        config["build_seconds"] = round(t.seconds)
        common.built_write(NAME, config)
        say(f"built in {t.seconds / 60:.1f} min")
    else:
        config = built
        say(f"reusing the sessions table built {built.get('built_at')} (--rebuild to build it again)")
    table = table_check(config)
    say(
        f"{table['table_rows_estimate']:,} sessions ({table['size']}), "
        f"{table['customer_sessions']:,} of them the bench customer's"
    )
    return config, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build the sessions table again")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every SELECT of both pages")
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_LOGS_ROWS", 20_000_000))
    parser.add_argument("--customer-rows", type=int, default=common.env_int("BENCH_LOGS_CUSTOMER_ROWS", 1_000_000))
    parser.add_argument("--requests", type=int, default=common.env_int("BENCH_REQUESTS", 200))
    parser.add_argument("--warmup", type=int, default=common.env_int("BENCH_WARMUP", 20))
    args = parser.parse_args(argv)
    if args.customer_rows < DEEP_PAGE * PAGE_SIZE or args.customer_rows > args.rows:
        parser.error(f"--customer-rows must be at least {DEEP_PAGE * PAGE_SIZE:,} and at most --rows")

    config, table = table_ensure(args.rows, args.customer_rows, rebuild=args.rebuild)

    common.load_warn()
    results, details = measure(table["customer_id"], args.warmup, args.requests, args.explain)
    details.update({"table": table, "build": config, "server": common.server_info()})
    if args.explain:
        for name, plans in details["explain"].items():
            for plan in plans:
                common.out(f"\n{name}: {plan['sql']}\n{plan['plan']}")
    if args.rows != 20_000_000:  # a quick run says so in the table
        for result in results:
            result.what = result.what.replace("/logs/", f"/logs/ ({args.rows / 1e6:g}M rows)", 1)
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"/logs/ benchmark ({path.relative_to(common.ROOT)})")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
