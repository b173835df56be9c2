"""Pages benchmark (SPEC §9): every page fast under load, measured from outside.

- Data, kept across runs in `cloudportal_bench_pages`: the demo customer of
  `seed_demo` (about a year of sessions on three devices, a profile, a legal hold
  they may know of and a disclosure) and a heavier customer with
  BENCH_PAGES_HEAVY_SESSIONS sessions (default 100,000) over the last 360 days on
  three devices, with their daily usage; both have accepted the statement in force.
- The server: production settings (cloudportal.settings.production, the
  environment it requires set to bench values), started by the Procfile's `web`
  line with WEB_CONCURRENCY = 2 × cores + 1 workers, bound to 127.0.0.1 on a free
  port (BENCH_PAGES_PORT to choose it), its cache and sessions on a Redis database
  of their own (BENCH_PAGES_REDIS_URL, emptied first), static files collected as the
  Procfile's `release` does. Requests say X-Forwarded-Proto: https, as the proxy in
  front of production does.
- Sign-in: each customer signs in through the real sign-in form (GET the form, POST
  the address, password and CSRF token); the session cookie it sets then passes
  every middleware (sessions, allauth, suspension, the statement gate).
- Load: wrk (Debian's package; installed with apt-get where missing) with 32
  connections on 2 threads, BENCH_PAGES_WARMUP seconds of warm-up (default 5) then
  BENCH_PAGES_SECONDS (default 30) per page: a static file through WhiteNoise (the
  baseline: no view, no middleware past WhiteNoise), `/healthz`, `/privacy/` as a
  visitor, and for each customer `/`, `/logs/`, `/logs/?device=…&date_from=…`,
  `/me/data/`, `/devices/`, `/me/activity/`. A wrk script (bench/pages_check.lua)
  counts as an error every response that is not a 200 holding the page's marker
  (its `<body data-page="…">`): a redirect to the sign-in page is an error.
- Targets: the dashboard ≥ 1,000 req/s with p99 < 100 ms and 0 errors; every other
  signed-in page ≥ 500 req/s with p99 < 150 ms and 0 errors; `/privacy/` ≥ 1,500
  req/s and `/healthz` ≥ 2,000 req/s, 0 errors.
- granian: when it is installed (requirements-dev.txt), the same app is then served by
  granian's WSGI server with as many workers, and the baseline, `/healthz` and the
  demo customer's `/`, `/logs/` and `/me/data/` are measured again, each beside
  gunicorn's figure of the same run (rows without a target: they say which server to
  keep in the Procfile).
- Soak (BENCH_SOAK=600): instead, BENCH_SOAK seconds at 32 connections over a mix of
  the signed-in pages of both customers, a minute at a time: errors and p99 each
  minute, each gunicorn worker's resident memory (VmRSS) after the warm-up and at
  the end. Targets: 0 errors, the last minute's p99 within 1.5× the first's, each
  worker's memory at the end within 10 % of its memory after the warm-up.

Run: `python -m bench.pages`; quick: BENCH_PAGES_SECONDS=3 BENCH_PAGES_HEAVY_SESSIONS=10000.
The in-process profile of each page (view, middleware, queries): `python -m bench.pages_profile`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bench import common, data
from bench.common import ROOT, Result, env_int, say, timed
from bench.pages_server import GRANIAN, Server, sign_in, wrk_run

NAME = "pages"
DB_NAME = "cloudportal_bench_pages"
REDIS_URL = os.environ.get("BENCH_PAGES_REDIS_URL", "redis://127.0.0.1:6379/11")
BROKER_URL = os.environ.get("BENCH_PAGES_BROKER_URL", "redis://127.0.0.1:6379/10")
HEAVY_EMAIL = "heavy@pages.bench.test"
HEAVY_PASSWORD = "bench-pages-heavy-2026"
HEAVY_MACS = ["3C:22:FB:50:00:01", "3C:22:FB:50:00:02", "F2:6A:1B:50:00:03"]
SITES = 50
CONNECTIONS = 32
THREADS = 2
#: Bump when what the data build makes changes: the next run builds it again.
BUILD_VERSION = 2

#: The pages measured under granian too, beside gunicorn.
COMPARED = ("dashboard", "logs", "me/data")
#: (req/s at least, p99 below in ms) by kind of page.
TARGETS = {"dashboard": (1000, 100), "signed_in": (500, 150), "privacy": (1500, None), "healthz": (2000, None)}


# --- Data -----------------------------------------------------------------------


def _heavy_customer(sessions: int):
    from allauth.account.models import EmailAddress
    from django.db import connection

    from accesslogs.models import DailyUsage, NetworkSession
    from accesslogs.partitions import partitions_ensure, partitions_window
    from accesslogs.services import subscribers_current
    from devices.models import Device
    from devices.services import device_add

    user = data.customer_ensure(HEAVY_EMAIL)
    user.set_password(HEAVY_PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    for n, mac in enumerate(HEAVY_MACS):
        if not Device.objects.filter(mac=mac).exists():
            device_add(user=user, mac=mac, label=f"Heavy device {n + 1}")
    partitions_ensure(partitions_window())
    subscriber = subscribers_current({(user.pk, user.email)})[(user.pk, user.email)]
    NetworkSession.objects.filter(subscriber_id=subscriber).delete()
    DailyUsage.objects.filter(user=user).delete()
    collector = data.collector_ensure("bench-pages")
    first_site = data.sites_ensure(SITES, name="Bench site {n}", address="{n} rue du Banc, 75000 Paris")[0]
    macs = "ARRAY[" + ", ".join(f"'{mac}'" for mac in HEAVY_MACS) + "]"
    data.sessions_insert(
        f"""
        SELECT %s, 'heavy-' || g, %s, ({macs})[g %% 3 + 1], ('10.30.' || (g %% 250) || '.' || (g %% 200 + 1))::inet,
               %s + g %% {SITES},
               now() - interval '360 days' + g * (interval '359 days' / %s),
               now() - interval '360 days' + g * (interval '359 days' / %s) + interval '40 minutes',
               (g * 7919) %% 100000000, (g * 104729) %% 10000000
        FROM generate_series(1::bigint, %s::bigint) AS g
        """,
        [collector.pk, subscriber, first_site, sessions, sessions, sessions],
    )
    data.daily_usage_from_sessions(subscriber_id=subscriber)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {NetworkSession._meta.db_table}")
        cursor.execute(f"ANALYZE {DailyUsage._meta.db_table}")
    return user


def passwords_production() -> None:
    """The two customers' passwords hashed as production hashes them (the bench builds
    its data with the test settings, whose fast hasher production does not accept)."""
    from django.conf import global_settings
    from django.test import override_settings

    from accounts.models import User
    from portal.management.commands.seed_demo import DEMO_CUSTOMER

    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        for email, password in (DEMO_CUSTOMER, (HEAVY_EMAIL, HEAVY_PASSWORD)):
            user = User.objects.get(email=email)
            user.set_password(password)
            user.save(update_fields=["password"])


def data_ensure(heavy_sessions: int) -> None:
    """The demo customer and the heavy one, made once and kept while unchanged."""
    from django.core.management import call_command

    from policies.selectors import statement_in_force
    from policies.services import statement_accept

    wanted = {"version": BUILD_VERSION, "heavy_sessions": heavy_sessions}
    if common.built_read(DB_NAME, NAME) == wanted:
        return
    with timed() as t:
        call_command("seed_demo", force=True, verbosity=0)
        heavy = _heavy_customer(heavy_sessions)
        statement_accept(user=heavy, version=statement_in_force(), ip_address=None, user_agent="bench.pages")
        passwords_production()
        common.built_write(NAME, wanted)
    say(f"built the demo customer and a customer with {heavy_sessions:,} sessions in {t.seconds:.1f} s")


def pages_of(email: str) -> list[tuple[str, str, str]]:
    """(name, path, marker) of the signed-in pages of the customer."""
    from django.utils import timezone

    from accounts.models import User
    from devices.models import Device

    user = User.objects.get(email=email)
    device = Device.objects.filter(user=user).order_by("pk").first()
    since = (timezone.localdate() - timedelta(days=60)).isoformat()
    return [
        ("dashboard", "/", 'data-page="dashboard"'),
        ("logs", "/logs/", 'data-page="sessions"'),
        ("logs filtered", f"/logs/?device={device.pk}&date_from={since}", 'data-page="sessions"'),
        ("me/data", "/me/data/", 'data-page="data-held"'),
        ("devices", "/devices/", 'data-page="devices"'),
        ("me/activity", "/me/activity/", 'data-page="activity"'),
    ]


# --- Measuring ------------------------------------------------------------------


def wrk_ensure() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("installing wrk from the system's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def _figure(run: dict) -> str:
    return f"{run['rps']:,.0f} req/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, {run['errors']} errors"


def _row(what: str, kind: str, run: dict, baseline: dict) -> Result:
    rps, p99 = TARGETS[kind]
    target = f"≥ {rps:,} req/s" + (f", p99 < {p99} ms" if p99 else "") + ", 0 errors"
    passed = run["rps"] >= rps and (p99 is None or run["p99_ms"] < p99) and run["errors"] == 0
    ratio = run["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    return Result(
        what,
        f"{_figure(run)} ({ratio:.2f}× baseline)",
        f"static file: {baseline['rps']:,.0f} req/s, p99 {baseline['p99_ms']:.1f} ms",
        target,
        passed,
        {**run, "ratio_to_baseline": round(ratio, 3)},
    )


def measure(server: Server, seconds: int, warmup: int, customers: dict[str, str]) -> tuple[list[Result], dict]:
    static = ("static file (baseline)", server.static_path, server.static_marker)
    runs: dict[str, dict] = {}

    def run(label: str, path: str, marker: str, cookie: str | None = None) -> dict:
        if warmup:
            wrk_run(server, path, [marker], seconds=warmup, cookie=cookie)
        runs[label] = result = wrk_run(server, path, [marker], seconds=seconds, cookie=cookie)
        say(f"{label:<38} {_figure(result)}")
        return result

    baseline = run(*static)
    results = [Result(static[0], _figure(baseline), "—", "—", None, baseline)]
    results.append(_row("/healthz", "healthz", run("/healthz", "/healthz", '"status": "ok"'), baseline))
    results.append(
        _row("/privacy/ (visitor)", "privacy", run("/privacy/", "/privacy/", 'data-page="privacy-statement"'), baseline)
    )
    for who, cookie in customers.items():
        for name, path, marker in pages_of(who):
            label = f"{name} ({who.split('@')[0]})"
            kind = "dashboard" if name == "dashboard" else "signed_in"
            results.append(_row(label, kind, run(label, path, marker, cookie), baseline))
    return results, {"runs": runs}


def soak(server: Server, seconds: int, warmup: int, customers: dict[str, str]) -> tuple[list[Result], dict]:
    """Both customers' pages in turn, a minute at a time (one wrk per customer, 16
    connections each), then the workers' memory."""
    from concurrent.futures import ThreadPoolExecutor

    mixes = {who: pages_of(who) for who in customers}
    markers = sorted({marker for pages in mixes.values() for _n, _p, marker in pages})

    def minute(length: int) -> dict:
        with ThreadPoolExecutor(len(customers)) as pool:
            futures = [
                pool.submit(
                    wrk_run,
                    server,
                    "/",
                    markers,
                    seconds=length,
                    cookie=cookie,
                    paths=[p for _n, p, _m in mixes[who]],
                    connections=CONNECTIONS // len(customers),
                    threads=1,
                )
                for who, cookie in customers.items()
            ]
            parts = [f.result() for f in futures]
        return {
            "rps": sum(p["rps"] for p in parts),
            "p99_ms": max(p["p99_ms"] for p in parts),
            "errors": sum(p["errors"] for p in parts),
        }

    minute(warmup or 5)
    rss_start = server.workers_rss_kb()
    minutes = []
    left = seconds
    while left > 0:
        length = min(60, left)
        minutes.append(minute(length))
        left -= length
        say(f"soak minute {len(minutes)}: {minutes[-1]['rps']:,.0f} req/s, p99 {minutes[-1]['p99_ms']:.1f} ms, "
            f"{minutes[-1]['errors']} errors")  # fmt: skip
    rss_end = server.workers_rss_kb()
    errors = sum(m["errors"] for m in minutes)
    flat = minutes[-1]["p99_ms"] <= 1.5 * minutes[0]["p99_ms"]
    growth = {pid: (rss_end.get(pid, 0) - kb) / kb for pid, kb in rss_start.items() if kb}
    lost = sorted(set(rss_start) ^ set(rss_end))
    memory_ok = not lost and all(g <= 0.10 for g in growth.values())
    results = [
        Result(f"soak {seconds} s: errors", str(errors), "—", "0", errors == 0, {"minutes": minutes}),
        Result(
            "soak: p99 last minute / first",
            f"{minutes[-1]['p99_ms']:.1f} / {minutes[0]['p99_ms']:.1f} ms",
            "—",
            "≤ 1.5×",
            flat,
        ),
        Result(
            "soak: worker memory growth (max)",
            f"{max(growth.values(), default=0) * 100:+.1f} %" + (f", workers replaced: {lost}" if lost else ""),
            "—",
            "≤ +10 % each",
            memory_ok,
            {"rss_kb_after_warmup": rss_start, "rss_kb_end": rss_end},
        ),
    ]
    return results, {"minutes": minutes, "rss_kb_after_warmup": rss_start, "rss_kb_end": rss_end}


def granian_compare(make_server, seconds: int, warmup: int, gunicorn: dict[str, dict]) -> tuple[list[Result], dict]:
    """The same app under granian: the baseline, /healthz and the demo customer's
    dashboard, /logs/ and /me/data/, each beside gunicorn's figure of this run."""
    from portal.management.commands.seed_demo import DEMO_CUSTOMER

    runs: dict[str, dict] = {}
    results = []
    with make_server(GRANIAN) as server:
        say(f"{server.command_line}: {server.workers} workers on port {server.port}")
        cookie = sign_in(server, *DEMO_CUSTOMER)
        who = DEMO_CUSTOMER[0].split("@")[0]
        wanted = [
            ("static file (baseline)", server.static_path, server.static_marker, None),
            ("/healthz", "/healthz", '"status": "ok"', None),
        ]
        wanted += [(f"{n} ({who})", p, m, cookie) for n, p, m in pages_of(DEMO_CUSTOMER[0]) if n in COMPARED]
        for label, path, marker, with_cookie in wanted:
            if warmup:
                wrk_run(server, path, [marker], seconds=warmup, cookie=with_cookie)
            runs[label] = run = wrk_run(server, path, [marker], seconds=seconds, cookie=with_cookie)
            theirs = gunicorn[label]
            say(f"granian {label:<30} {_figure(run)}")
            results.append(
                Result(
                    f"granian: {label}",
                    f"{_figure(run)} ({run['rps'] / max(theirs['rps'], 0.1):.2f}× gunicorn)",
                    f"gunicorn: {theirs['rps']:,.0f} req/s, p99 {theirs['p99_ms']:.1f} ms",
                    "—",
                    None,
                    run,
                )
            )
    return results, {"granian": runs}


def main(argv: list[str] | None = None) -> int:
    seconds = env_int("BENCH_PAGES_SECONDS", 30)
    warmup = env_int("BENCH_PAGES_WARMUP", 5)
    heavy_sessions = env_int("BENCH_PAGES_HEAVY_SESSIONS", 100_000)
    soak_seconds = env_int("BENCH_SOAK", 0)
    common.load_warn()
    wrk = wrk_ensure()
    common.django_setup(DB_NAME)
    data_ensure(heavy_sessions)
    from django.conf import settings

    from portal.management.commands.seed_demo import DEMO_CUSTOMER

    def make_server(command_line: str | None = None) -> Server:
        return Server(
            db_url=common.database_url(DB_NAME),
            redis_url=REDIS_URL,
            broker_url=BROKER_URL,
            encryption_keys=",".join(settings.FIELD_ENCRYPTION_KEYS),
            port=env_int("BENCH_PAGES_PORT", 0),
            wrk=wrk,
            command_line=command_line,
        )

    server = make_server()
    with server:
        say(f"{server.command_line}: {server.workers} workers on port {server.port}")
        customers = {
            DEMO_CUSTOMER[0]: sign_in(server, *DEMO_CUSTOMER),
            HEAVY_EMAIL: sign_in(server, HEAVY_EMAIL, HEAVY_PASSWORD),
        }
        if soak_seconds:
            results, details = soak(server, soak_seconds, warmup, customers)
        else:
            results, details = measure(server, seconds, warmup, customers)
    if not soak_seconds and shutil.which("granian", path=str(Path(sys.executable).parent)):
        more, granian = granian_compare(make_server, seconds, warmup, details["runs"])
        results += more
        details.update(granian)
    details.update(
        {
            "server": server.command_line,
            "workers": server.workers,
            "connections": CONNECTIONS,
            "seconds": soak_seconds or seconds,
            "warmup_seconds": warmup,
            "heavy_sessions": heavy_sessions,
            "machine": common.server_info(),
        }
    )
    common.results_write(NAME, results, details)
    common.table_print(results, title="pages: wrk, 32 connections, beside a static file served by the same server")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
