"""What every benchmark shares: a PostgreSQL database of its own, Django set up on it,
timing and percentiles, and the results table and JSON file.

Each benchmark runs in a process of its own (see bench/run.py) against a database
named `cloudportal_bench…` that it creates and migrates, never the development or test
databases. Settings are the test suite's (`cloudportal.settings.test`: PostgreSQL,
Redis, DEBUG off, so templates come from the cached loader as in production) with
DATABASE_URL pointed at the bench database and the cache on a Redis database of its own.
The data the benchmarks build is in bench/data.py, their real Celery workers in
bench/workers.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
#: The server the benchmarks use; each one adds the name of its database.
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_PREFIX = "cloudportal_bench"
SETTINGS = os.environ.get("BENCH_SETTINGS", "cloudportal.settings.test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
#: Added to every bench database's name, so that two checkouts benchmarking on one
#: server (BENCH_DB_SUFFIX=_mine) never drop each other's databases.
DB_SUFFIX = os.environ.get("BENCH_DB_SUFFIX", "")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").replace("_", "").replace(",", "")
    return int(value) if value else default


# --- Database -------------------------------------------------------------------


def database_url(name: str) -> str:
    if not name.startswith(DB_PREFIX):
        raise ValueError(f"bench databases are named {DB_PREFIX}…, not {name!r}")
    return f"{PG_SERVER}/{name}{DB_SUFFIX}"


def _server():
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def database_exists(name: str) -> bool:
    with _server() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name + DB_SUFFIX]).fetchone() is not None


def database_create(name: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    database_url(name)  # checks the name
    if database_exists(name):
        return False
    with _server() as conn:
        conn.execute(f'CREATE DATABASE "{name}{DB_SUFFIX}"')
    return True


def database_drop(name: str) -> None:
    database_url(name)  # only ever a bench database
    with _server() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}{DB_SUFFIX}" WITH (FORCE)')


def migrations_fingerprint() -> str:
    """A digest of every migration file of the project's apps.

    `migrate` applies new migrations but never one edited in place; a bench database
    migrated before such an edit is dropped and made again (see django_setup)."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _value_read(db_name: str, table: str, query: str, params: Sequence = ()) -> object | None:
    """The first value `query` finds in the bench database, None when `table` (which
    it reads) does not exist or has no such row."""
    import psycopg

    with psycopg.connect(database_url(db_name)) as conn:
        if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
            return None
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def _fingerprint_read(db_name: str) -> str | None:
    return _value_read(db_name, "bench_schema", "SELECT fingerprint FROM bench_schema")


def built_read(db_name: str, key: str) -> dict | None:
    """The description of what benchmark `key` built in its database and keeps (written
    by built_write once the build is finished), or None."""
    if not database_exists(db_name):
        return None
    return _value_read(db_name, "bench_build", "SELECT value FROM bench_build WHERE key = %s", [key])


def built_write(key: str, value: dict) -> None:
    """Record, in the database Django is set up on, what benchmark `key` built."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_build (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute(
            "INSERT INTO bench_build VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )


def django_setup(db_name: str) -> None:
    """Point Django at the bench database, create and migrate it.

    When the migration files have changed since the database was migrated, it is
    dropped and made again, so that it has the schema the migrations describe now."""
    os.environ["DATABASE_URL"] = database_url(db_name)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["TEST_REDIS_URL"] = REDIS_URL
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    fingerprint = migrations_fingerprint()
    if database_exists(db_name) and _fingerprint_read(db_name) != fingerprint:
        say(f"the migrations have changed since {db_name} was made: making it again")
        database_drop(db_name)
    created = database_create(db_name)
    # WhiteNoise looks for collected static files, which the benchmarks do not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.core.management import call_command

    with timed() as t:
        call_command("migrate", verbosity=0, interactive=False)
    if created:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_schema (fingerprint text NOT NULL)")
            cursor.execute("INSERT INTO bench_schema VALUES (%s)", [fingerprint])
        say(f"created and migrated database {db_name} in {t.seconds:.1f} s")
    # Every benchmark uses the same Redis database (REDIS_URL): what it holds was kept
    # for another bench database (its statement's state, its kept pages and users).
    from django.core.cache import cache

    cache.clear()


def vacuum_analyze(*tables: str, checkpoint: bool = False) -> None:
    """VACUUM ANALYZE the tables after a load (statistics and visibility map as a settled
    table has them), then a CHECKPOINT if asked, so no measurement pays for the load."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
        if checkpoint:
            cursor.execute("CHECKPOINT")


def psql(command: str, *, db_name: str, capture: bool = False) -> str:
    """Run one SQL statement or backslash command (e.g. \\copy) with the psql client."""
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database_url(db_name), "-c", command],
        check=True,
        text=True,
        capture_output=capture,
    )
    return done.stdout if capture else ""


def server_info() -> dict:
    """What the figures depend on, for the JSON file."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name IN ("
            "'shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_wal_size', 'synchronous_commit', "
            "'fsync', 'wal_level', 'jit', 'random_page_cost') ORDER BY name"
        )
        pg_settings = {name: f"{setting}{' ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()}
    return {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": version,
        "postgresql_settings": pg_settings,
    }


# --- Timing ---------------------------------------------------------------------


@dataclass
class Timer:
    started: float = 0.0
    seconds: float = 0.0


@contextmanager
def timed():
    timer = Timer(started=time.perf_counter())
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - timer.started


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with p % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict:
    """p50, p95, max and mean of durations given in seconds, in milliseconds."""
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p95_ms": round(percentile(seconds, 95) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3),
    }


def load_warn() -> None:
    """Say so when something else keeps the machine busy: the figures would suffer."""
    load = os.getloadavg()[0]
    if load > 0.75 * (os.cpu_count() or 1):
        say(f"warning: the machine is busy (load average {load:.1f} on {os.cpu_count()} CPUs); figures may suffer")


def out(text: str = "") -> None:
    """A line on the benchmark's standard output: its report is what it is run for."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    out(f"[{datetime.now(UTC):%H:%M:%S}] {message}")


# --- Results --------------------------------------------------------------------


@dataclass
class Result:
    """One line of the table: the figure measured, beside the baseline of the same run."""

    what: str
    figure: str
    baseline: str
    target: str
    passed: bool | None
    values: dict = field(default_factory=dict)


def _cell(passed: bool | None) -> str:
    return "—" if passed is None else ("PASS" if passed else "FAIL")


def table_print(results: Sequence[Result], title: str = "") -> None:
    header = ("what", "figure", "baseline", "target", "pass")
    rows = [(r.what, r.figure, r.baseline, r.target, _cell(r.passed)) for r in results]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    if title:
        out(f"\n{title}")
    out(line)
    out("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    out(line)
    for row in rows:
        out("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    out(line)


def results_write(bench: str, results: Sequence[Result], details: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{bench}.json"
    payload = {
        "bench": bench,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": all(r.passed is not False for r in results),
        "results": [asdict(r) for r in results],
        "details": details,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def results_read(bench: str) -> dict | None:
    path = RESULTS_DIR / f"{bench}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"
