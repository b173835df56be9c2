"""Export and erasure benchmark (SPEC §9): a customer with 1M sessions.

- Data, kept across runs in `cloudportal_bench_export`: one customer with
  BENCH_EXPORT_ROWS sessions (default 1,000,000) over the last 11 months at 200
  sites, inserted with one INSERT … SELECT generate_series.
- (a) export: the export task's builder (`exports.build.ExportWriter`: data.json,
  a CSV per category, README, manifest) run in a fresh process loaded as a Celery
  worker is (Django, then every app's task module: pyarrow among them, which the
  ingest code uses); wall time of the build, that process's resident memory at
  rest just before it, and its peak (ru_maxrss, everything loaded included).
- (b) baseline: `psql -c "\\copy (<the export's sessions query>) to FILE CSV HEADER"`
  of the same customer (one query per address the sessions were recorded under:
  one here), timed around the psql process.
- (c) erasure: `erasure.services.account_erase_run` of that customer (every registry
  category, sessions detached through their subscriber), in-process, timed; then the
  detached subscriber is given to a new customer for the next run.
Runs alternate E C C E … (BENCH_REPEAT pairs, default 3); figures are medians.

Run: `python -m bench.export [--rows N] [--repeat N] [--child USER_ID FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import common
from bench.common import Result, say, timed

NAME = "export"
DB_NAME = "cloudportal_bench_export"
EMAIL = "export-bench@export.bench.test"
SITES = 200
TARGET_SECONDS = 5.0
TARGET_RSS_MB = 100
TARGET_ERASE_SECONDS = 5.0


def customer_make():
    from accounts.models import User

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=EMAIL, password=None)
    return user


def data_ensure(rows: int):
    """The customer and their sessions; made once and kept."""
    from django.db import connection

    from accesslogs.models import Collector, NetworkSession, Site
    from accesslogs.partitions import partitions_ensure, partitions_window
    from accesslogs.services import subscribers_current

    user = customer_make()
    have = NetworkSession.objects.filter(subscriber__user=user).count()
    if have == rows:
        return user
    with timed() as t, connection.cursor() as cursor:
        partitions_ensure(partitions_window())
        NetworkSession.objects.all().delete()
        subscriber = subscribers_current({(user.pk, user.email)})[(user.pk, user.email)]
        collector, _created = Collector.objects.get_or_create(
            name="bench-export", defaults={"token_prefix": "x", "token_hash": "bench-export"}
        )
        if Site.objects.count() < SITES:
            Site.objects.bulk_create(
                [Site(name=f"Site {i}", address=f"{i} rue du Banc, 75000 Paris") for i in range(SITES)],
                ignore_conflicts=True,
            )
        first_site = Site.objects.order_by("pk").values_list("pk", flat=True).first()
        table = NetworkSession._meta.db_table
        cursor.execute(
            f"""
            INSERT INTO {table} (collector_id, session_id, subscriber_id, mac, ip, site_id,
                                 started_at, ended_at, bytes_in, bytes_out)
            SELECT %s, 's' || g, %s, 'AA:BB:CC:00:' || lpad(to_hex(g %% 4), 2, '0') || ':01',
                   ('10.0.' || (g %% 250) || '.' || (g %% 200 + 1))::inet, %s + g %% {SITES},
                   now() - interval '330 days' + g * (interval '330 days' / %s),
                   now() - interval '330 days' + g * (interval '330 days' / %s) + interval '40 minutes',
                   (g * 7919) %% 100000000, (g * 104729) %% 10000000
            FROM generate_series(1::bigint, %s::bigint) AS g
            """,  # noqa: S608 - table name from the model
            [collector.pk, subscriber, first_site, rows + 1, rows + 1, rows],
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
    say(f"inserted {rows:,} sessions for the customer in {t.seconds:.1f} s")
    return user


def _rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(user_id: int, path: str) -> None:
    """In a fresh process loaded as a worker is (Django, then every task module, as
    the worker imports them at start): build the export, report its time, the
    memory at rest before it and the peak (ru_maxrss)."""
    common.django_setup(DB_NAME)
    from cloudportal.celery import app

    app.loader.import_default_modules()
    from accounts.models import User
    from exports.build import ExportWriter

    user = User.objects.get(pk=user_id)
    rest_mb = _rss_mb()
    with timed() as t:
        report = ExportWriter(user=user, path=Path(path)).write()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"seconds": t.seconds, "peak_mb": peak_kib / 1024, "rest_mb": rest_mb, "counts": report.counts}
    common.out(json.dumps(result))


def export_run(user_id: int, workdir: Path) -> dict:
    path = workdir / "export.zip"
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", "--child", str(user_id), str(path)],
        cwd=common.ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["bytes"] = path.stat().st_size
    path.unlink()
    return result


def baseline_run(user, workdir: Path) -> float:
    """`psql \\copy` of the export's session queries (one per subscriber: one here)."""
    import psycopg
    from django.db import connection

    from accesslogs.selectors import sessions_export_query

    connection.ensure_connection()
    with psycopg.ClientCursor(connection.connection) as client:
        queries = [client.mogrify(sql, params) for sql, params in sessions_export_query(user=user).parts]
    targets = [workdir / f"baseline-{i}.csv" for i in range(len(queries))]
    with timed() as t:
        for sql, target in zip(queries, targets, strict=True):
            common.psql(f"\\copy ({sql}) to '{target}' with (format csv, header)", db_name=DB_NAME)
    for target in targets:
        target.unlink()
    return t.seconds


def erase_run(user) -> tuple[float, object]:
    """Erase the customer; give their sessions to a new one for the next run."""
    from django.utils import timezone

    from accesslogs.models import Subscriber
    from erasure.models import ErasureRequest
    from erasure.services import account_erase_run

    now = timezone.now()
    request = ErasureRequest.objects.create(user=user, requested_at=now, erase_after=now)
    with timed() as t:
        erased = account_erase_run(request_id=request.pk)
    assert erased is not None
    kept = {e.category.key: e.result.kept for e in erased}
    new = customer_make()
    Subscriber.objects.filter(user__isnull=True).update(user=new, email=new.email, detached_at=None)
    say(f"erasure: {t.seconds:.2f} s, kept {kept.get('access_logs')}")
    return t.seconds, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_EXPORT_ROWS", 1_000_000))
    parser.add_argument("--repeat", type=int, default=common.env_int("BENCH_REPEAT", 3))
    parser.add_argument("--child", nargs=2, metavar=("USER_ID", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1])
        return 0
    rows, repeat = args.rows, max(1, args.repeat)
    os.environ.setdefault("ERASURE_LEDGER_PATH", str(Path(tempfile.gettempdir()) / "cloudportal-bench-ledger.jsonl"))
    common.django_setup(DB_NAME)
    user = data_ensure(rows)
    common.load_warn()
    workdir = Path(tempfile.mkdtemp(prefix="cloudportal-bench-export-"))
    exports, copies, erasures = [], [], []
    for k in range(repeat):
        for kind in ("export", "copy") if k % 2 == 0 else ("copy", "export"):
            if kind == "export":
                result = export_run(user.pk, workdir)
                assert result["counts"]["access_logs"] == rows, result["counts"]
                exports.append(result)
                size = result["bytes"] / 2**20
                say(
                    f"export: {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB "
                    f"(at rest {result['rest_mb']:.0f} MB), {size:.0f} MiB"
                )
            else:
                copies.append(baseline_run(user, workdir))
                say(f"psql \\copy: {copies[-1]:.2f} s")
    for _k in range(repeat):
        seconds, user = erase_run(user)
        erasures.append(seconds)
    workdir.rmdir()

    export_s = statistics.median(r["seconds"] for r in exports)
    peak = max(r["peak_mb"] for r in exports)
    rest = min(r["rest_mb"] for r in exports)
    copy_s = statistics.median(copies)
    erase_s = statistics.median(erasures)
    results = [
        Result(
            what=f"export of a customer with {rows:,} sessions (ZIP, worker process)",
            figure=f"{export_s:.2f} s",
            baseline=f"psql \\copy (query) to file: {copy_s:.2f} s",
            target=f"< {TARGET_SECONDS:.0f} s",
            passed=export_s < TARGET_SECONDS,
            values={"seconds": export_s, "baseline_seconds": copy_s, "runs": exports, "baseline_runs": copies},
        ),
        Result(
            what="export: peak memory of the worker process (resident)",
            figure=f"{peak:.0f} MB",
            baseline=f"the same process at rest: {rest:.0f} MB (the export adds {peak - rest:.0f} MB)",
            target=f"< {TARGET_RSS_MB} MB",
            passed=peak < TARGET_RSS_MB,
            values={"peak_mb": peak, "rest_mb": rest},
        ),
        Result(
            what=f"erasure of a customer with {rows:,} sessions",
            figure=f"{erase_s:.2f} s",
            baseline="—",
            target=f"< {TARGET_ERASE_SECONDS:.0f} s",
            passed=erase_s < TARGET_ERASE_SECONDS,
            values={"seconds": erase_s, "runs": erasures},
        ),
    ]
    common.results_write(NAME, results, {"rows": rows, "repeat": repeat, "server": common.server_info()})
    common.table_print(results, title="bench.export")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
