"""Export and erasure benchmark (SPEC §9): a customer with 1M sessions.

- Data, kept across runs in `cloudportal_bench_export`: one customer with
  BENCH_EXPORT_ROWS sessions (default 1,000,000) over the last 11 months at 200
  sites, inserted with one INSERT … SELECT generate_series.
- (a) export: the export task (`exports.tasks.export_build`: data.json, a CSV per
  category, README, manifest, then the file's SHA-256 and the "ready" email queued)
  run by a real Celery worker started as the Procfile starts it (prefork pool, one
  pool process here) on a broker of its own; timed from sending the task to the
  export being ready, as the customer waits. Memory: the pool process's resident
  size (/proc/<pid>/status) at rest before the first export, and its peak (VmHWM)
  after the last.
- (b) baseline: `psql -c "\\copy (<the export's sessions query>) to FILE CSV HEADER"`
  of the same customer (one query per address the sessions were recorded under:
  one here), timed around the psql process.
- (c) erasure: `erasure.services.account_erase` of that customer (every registry
  category, sessions detached through their subscriber), in-process, timed; then the
  detached subscriber is given to a new customer for the next run.
Runs alternate E C C E … (BENCH_REPEAT pairs, default 3); figures are medians.

Run: `python -m bench.export [--rows N] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench import common, data
from bench.common import Result, say, timed
from bench.workers import celery_control, processes_stop, worker_env, worker_start, workers_wait

NAME = "export"
DB_NAME = "cloudportal_bench_export"
BROKER_URL = os.environ.get("BENCH_EXPORT_BROKER_URL", "redis://127.0.0.1:6379/14")
EMAIL = "export-bench@export.bench.test"
SITES = 200
TARGET_SECONDS = 5.0
TARGET_RSS_MB = 100
TARGET_ERASE_SECONDS = 5.0


def data_ensure(rows: int):
    """The customer and their sessions; made once and kept."""
    from accesslogs.models import NetworkSession
    from accesslogs.partitions import partitions_ensure, partitions_window
    from accesslogs.services import subscribers_current

    user = data.customer_ensure(EMAIL)
    have = NetworkSession.objects.filter(subscriber__user=user).count()
    if have == rows:
        return user
    with timed() as t:
        partitions_ensure(partitions_window())
        NetworkSession.objects.all().delete()
        subscriber = subscribers_current({(user.pk, user.email)})[(user.pk, user.email)]
        collector = data.collector_ensure("bench-export")
        first_site = data.sites_ensure(SITES, name="Site {n}", address="{n} rue du Banc, 75000 Paris", first=0)[0]
        data.sessions_insert(
            f"""
            SELECT %s, 's' || g, %s, 'AA:BB:CC:00:' || lpad(to_hex(g %% 4), 2, '0') || ':01',
                   ('10.0.' || (g %% 250) || '.' || (g %% 200 + 1))::inet, %s + g %% {SITES},
                   now() - interval '330 days' + g * (interval '330 days' / %s),
                   now() - interval '330 days' + g * (interval '330 days' / %s) + interval '40 minutes',
                   (g * 7919) %% 100000000, (g * 104729) %% 10000000
            FROM generate_series(1::bigint, %s::bigint) AS g
            """,
            [collector.pk, subscriber, first_site, rows + 1, rows + 1, rows],
        )
        common.vacuum_analyze(NetworkSession._meta.db_table)
    say(f"inserted {rows:,} sessions for the customer in {t.seconds:.1f} s")
    return user


def _status_kib(pid: int, field: str) -> int:
    """A memory figure of a process from /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


class Worker:
    """A Celery worker as the Procfile runs it (prefork pool), with one pool process,
    on a broker of its own; the export task runs in that process, whose memory is
    read from /proc."""

    def __init__(self, workdir: Path) -> None:
        self.control = celery_control("bench-export-control", BROKER_URL)
        env = worker_env(DB_NAME, BROKER_URL, EXPORT_ROOT=str(workdir))
        self.workdir = workdir
        self.name = f"bench-export-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.log = workdir / "worker.log"
        self.process = worker_start(self.name, env=env, log=self.log, pool="prefork")
        workers_wait(self.control, [self.name], [self.process], [self.log])
        time.sleep(1)  # let the pool process settle
        [self.child] = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        self.rest_kib = _status_kib(int(self.child), "VmRSS")

    def export(self, user) -> dict:
        """One export of the customer's data by the task, timed from sending it to
        the export being ready, as the customer waits for it."""
        from cloudportal.privacy import categories
        from exports.models import DataExport

        export = DataExport.objects.create(
            user=user, categories_total=len(categories()), file_name=f"export-bench-{uuid.uuid4().hex}.zip"
        )
        deadline = time.monotonic() + 300
        with timed() as t:
            self.control.send_task("exports.tasks.export_build", args=[export.pk])
            while export.status in DataExport.IN_PROGRESS and time.monotonic() < deadline:
                time.sleep(0.01)
                export.refresh_from_db(fields=["status"])
        export.refresh_from_db()
        if export.status != DataExport.Status.READY:
            raise RuntimeError(f"the export ended {export.status}:\n" + self.log.read_text())
        path = self.workdir / export.file_name
        size = path.stat().st_size
        path.unlink()
        export.delete()
        return {"seconds": t.seconds, "records": export.records, "bytes": size, "peak_mb": self.peak_kib() / 1024}

    def peak_kib(self) -> int:
        return _status_kib(int(self.child), "VmHWM")

    def stop(self) -> None:
        processes_stop([self.process])
        self.control.close()


def baseline_run(user, workdir: Path) -> float:
    """`psql \\copy` of the export's session queries (one per subscriber: one here)."""
    import psycopg
    from django.db import connection

    from accesslogs.selectors import sessions_export_query

    connection.ensure_connection()
    with psycopg.ClientCursor(connection.connection) as client:
        bulk = sessions_export_query(user=user)
        queries = [client.mogrify(bulk.rows_sql(), params) for params in bulk.parts]
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
    from erasure.services import account_erase

    now = timezone.now()
    request = ErasureRequest.objects.create(user=user, requested_at=now, erase_after=now)
    with timed() as t:
        erased = account_erase(request_id=request.pk)
    assert erased is not None
    kept = {e.category.key: e.result.kept for e in erased}
    new = data.customer_ensure(EMAIL)
    Subscriber.objects.filter(user__isnull=True).update(user=new, email=new.email, detached_at=None)
    say(f"erasure: {t.seconds:.2f} s, kept {kept.get('access_logs')}")
    return t.seconds, new


def exports_and_copies(worker: Worker, user, workdir: Path, rows: int, repeat: int, exports: list, copies: list):
    """Exports and baselines, alternating E C C E …"""
    for k in range(repeat):
        for kind in ("export", "copy") if k % 2 == 0 else ("copy", "export"):
            if kind == "export":
                result = worker.export(user)
                assert result["records"] >= rows, result
                exports.append(result)
                say(
                    f"export: {result['seconds']:.2f} s, worker peak so far {result['peak_mb']:.0f} MB, "
                    f"{result['bytes'] / 2**20:.0f} MiB"
                )
            else:
                copies.append(baseline_run(user, workdir))
                say(f"psql \\copy: {copies[-1]:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=common.env_int("BENCH_EXPORT_ROWS", 1_000_000))
    parser.add_argument("--repeat", type=int, default=common.env_int("BENCH_REPEAT", 3))
    args = parser.parse_args(argv)
    rows, repeat = args.rows, max(1, args.repeat)
    os.environ.setdefault("ERASURE_LEDGER_PATH", str(Path(tempfile.gettempdir()) / "cloudportal-bench-ledger.jsonl"))
    common.django_setup(DB_NAME)
    user = data_ensure(rows)
    common.load_warn()
    workdir = Path(tempfile.mkdtemp(prefix="cloudportal-bench-export-"))
    exports, copies, erasures = [], [], []
    worker = Worker(workdir)
    rest = worker.rest_kib / 1024
    say(f"worker pool process at rest: {rest:.0f} MB")
    try:
        exports_and_copies(worker, user, workdir, rows, repeat, exports, copies)
    finally:
        worker.stop()
    for _k in range(repeat):
        seconds, user = erase_run(user)
        erasures.append(seconds)
    worker.log.unlink()
    workdir.rmdir()

    export_s = statistics.median(r["seconds"] for r in exports)
    peak = max(r["peak_mb"] for r in exports)
    copy_s = statistics.median(copies)
    erase_s = statistics.median(erasures)
    results = [
        Result(
            what=f"export of a customer with {rows:,} sessions (ZIP, by the worker)",
            figure=f"{export_s:.2f} s",
            baseline=f"psql \\copy (query) to file: {copy_s:.2f} s",
            target=f"< {TARGET_SECONDS:.0f} s",
            passed=export_s < TARGET_SECONDS,
            values={"seconds": export_s, "baseline_seconds": copy_s, "runs": exports, "baseline_runs": copies},
        ),
        Result(
            what="export: peak memory of the worker's pool process (resident)",
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
