"""Where each page's time goes, in-process: the pages of bench/pages.py requested with
Django's test client signed in (force_login) on the pages benchmark's database
(`cloudportal_bench_pages`, built by it if missing), the settings the benchmarks use
(PostgreSQL, Redis, DEBUG off, the cached template loader).

For each page, after BENCH_PROFILE_WARMUP requests (default 5), BENCH_PROFILE_REQUESTS
(default 30) requests give the median of: the whole request; each middleware's own
part (before and after the layers inside it, measured by a timestamp middleware put
between every two of them); URL resolving with every middleware's process_view (the
statement gate, suspension, CSRF); the view with its template; and the SQL queries
of the view and of the rest, with their time. `--cprofile PAGE` prints the 30 most
expensive functions (cumulative) of one page (its name as listed, e.g. dashboard), warm, then the 30 with the most time
of their own.
The figures go to bench/results/pages_profile.json.

Run: `python -m bench.pages_profile [--cprofile dashboard]`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time

from bench import common, pages
from bench.common import RESULTS_DIR, ROOT, env_int, out, say

#: Timestamps of the request being measured: (what, when).
_marks: list[tuple[str, float]] = []
#: (start, seconds) of each SQL query of the request.
_queries: list[tuple[float, float]] = []


class _Stamp:
    label = ""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _marks.append((f"in:{self.label}", time.perf_counter()))
        response = self.get_response(request)
        _marks.append((f"out:{self.label}", time.perf_counter()))
        return response


class ViewTimer:
    """Last middleware: marks the end of the process_view hooks, and times the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        _marks.append(("view:start", time.perf_counter()))
        response = view_func(request, *view_args, **view_kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        _marks.append(("view:end", time.perf_counter()))
        return response


def _stamped(middleware: list[str]) -> list[str]:
    """The middleware with a stamp before each, and one before the view."""
    result = []
    module = sys.modules[__name__]
    for index, path in enumerate([*middleware, "view"]):
        name = f"Stamp{index}"
        setattr(module, name, type(name, (_Stamp,), {"label": path.rsplit(".", 1)[-1]}))
        result.append(f"{__name__}.{name}")
        if path != "view":
            result.append(path)
    return [*result, f"{__name__}.ViewTimer"]


def _one(client, path: str) -> dict:
    _marks.clear()
    _queries.clear()
    started = time.perf_counter()
    response = client.get(path, HTTP_X_FORWARDED_PROTO="https")
    total = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    at = dict(_marks)
    labels = [label.removeprefix("in:") for label, _t in _marks if label.startswith("in:")]
    own = {}
    for outer, inner in zip(labels, [*labels[1:], None], strict=True):
        if inner is None:  # the innermost reached: it answered itself (or it is the view's stamp)
            own[outer] = at[f"out:{outer}"] - at[f"in:{outer}"]
        else:
            own[outer] = (at[f"in:{inner}"] - at[f"in:{outer}"]) + (at[f"out:{outer}"] - at[f"out:{inner}"])
    own.pop("view", None)
    view = at["view:end"] - at["view:start"] if "view:end" in at else 0.0
    in_view = [s for start, s in _queries if at.get("view:start", 0) <= start <= at.get("view:end", 0)]
    return {
        "total": total,
        "middleware": own,
        "resolve_and_process_view": at["view:start"] - at["in:view"] if "view:start" in at else 0.0,
        "view": view,
        "queries_view": len(in_view),
        "queries_other": len(_queries) - len(in_view),
        "sql": sum(s for _start, s in _queries),
    }


def profile(client, path: str, warmup: int, requests: int) -> dict:
    for _ in range(warmup):
        _one(client, path)
    runs = [_one(client, path) for _ in range(requests)]

    def ms(values) -> float:
        return round(statistics.median(values) * 1000, 2)

    return {
        "path": path,
        "total_ms": ms(r["total"] for r in runs),
        "view_ms": ms(r["view"] for r in runs),
        "resolve_and_process_view_ms": ms(r["resolve_and_process_view"] for r in runs),
        "middleware_ms": {name: ms(r["middleware"].get(name, 0) for r in runs) for name in runs[0]["middleware"]},
        "queries_view": runs[-1]["queries_view"],
        "queries_other": runs[-1]["queries_other"],
        "sql_ms": ms(r["sql"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cprofile", metavar="PAGE", help="print the cProfile of one page")
    args = parser.parse_args(argv)
    common.django_setup(pages.DB_NAME)
    pages.data_ensure(env_int("BENCH_PAGES_HEAVY_SESSIONS", 100_000))
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    from accounts.models import User
    from portal.management.commands.seed_demo import DEMO_CUSTOMER

    def clock(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            _queries.append((started, time.perf_counter() - started))

    warmup, requests = env_int("BENCH_PROFILE_WARMUP", 5), env_int("BENCH_PROFILE_REQUESTS", 30)
    report: dict[str, dict] = {}
    with override_settings(MIDDLEWARE=_stamped(list(settings.MIDDLEWARE))), connection.execute_wrapper(clock):
        visitor = Client(HTTP_HOST="localhost")
        report["healthz"] = profile(visitor, "/healthz", warmup, requests)
        report["privacy (visitor)"] = profile(visitor, "/privacy/", warmup, requests)
        for email in (DEMO_CUSTOMER[0], pages.HEAVY_EMAIL):
            client = Client(HTTP_HOST="localhost")
            client.force_login(User.objects.get(email=email))
            for name, path, _marker in pages.pages_of(email):
                label = f"{name} ({email.split('@')[0]})"
                if args.cprofile and args.cprofile == name:
                    for _ in range(warmup):
                        _one(client, path)
                    profiler = cProfile.Profile()
                    profiler.runcall(lambda c=client, p=path: [_one(c, p) for _ in range(requests)])
                    out(f"\n=== cProfile of {label}, {requests} warm requests")
                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.sort_stats("cumulative").print_stats(30)
                    stats.sort_stats("tottime").print_stats(30)
                report[label] = profile(client, path, warmup, requests)
    out(f"\n{'page':<28} {'total':>7} {'view':>7} {'pv':>6} {'mw':>6} {'sql':>6} {'q view':>6} {'q rest':>6}")
    for label, row in report.items():
        mw = sum(row["middleware_ms"].values())
        out(
            f"{label:<28} {row['total_ms']:>7.2f} {row['view_ms']:>7.2f} {row['resolve_and_process_view_ms']:>6.2f} "
            f"{mw:>6.2f} {row['sql_ms']:>6.2f} {row['queries_view']:>6} {row['queries_other']:>6}"
        )
    out("(ms, medians; pv: URL resolving and every process_view; mw: the middleware's own parts)")
    first = next(iter(report.values()))
    out("\nmiddleware, own ms (dashboard of the demo customer, then /healthz):")
    dashboard = next(row for label, row in report.items() if label.startswith("dashboard"))
    for name, value in dashboard["middleware_ms"].items():
        out(f"  {name:<40} {value:>6.2f} {first['middleware_ms'].get(name, 0):>6.2f}")
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "pages_profile.json").write_text(json.dumps(report, indent=2) + "\n")
    say(f"JSON: {(RESULTS_DIR / 'pages_profile.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
