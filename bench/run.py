"""Run the benchmarks, each in a process of its own, and print one table.

`python -m bench` runs them all; BENCH=ingest (or BENCH=ingest,logs, BENCH=lookup) chooses. Each
benchmark writes bench/results/<name>.json; this writes bench/results/summary.json.
Quick runs: BENCH_ROWS=100000 (ingest), BENCH_PAGES_SECONDS=3 (pages), BENCH_LOGS_ROWS=2000000 and
BENCH_LOGS_CUSTOMER_ROWS=100000 (logs); see each module's docstring.
The exit status is 1 when a target is missed or a benchmark fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from bench import common
from bench.common import Result

#: In the order they run.
BENCHMARKS = ["ingest", "logs", "lookup", "sweep", "notice", "export", "scale", "pages"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = [name.strip() for name in (argv or os.environ.get("BENCH", "").split(",")) if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        sys.stderr.write(f"Unknown benchmark(s): {', '.join(sorted(unknown))}. Choose from: {', '.join(BENCHMARKS)}.\n")
        return 2
    names = [name for name in BENCHMARKS if not chosen or name in chosen]
    # The lookup benchmark reuses the ingest figures of this run rather than measure them again.
    os.environ["BENCH_RUN_STARTED"] = datetime.now(UTC).isoformat(timespec="seconds")

    results: list[Result] = []
    failed: list[str] = []
    for name in names:
        common.say(f"=== bench.{name}")
        started = datetime.now(UTC).isoformat(timespec="seconds")
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=common.ROOT, check=False)
        report = common.results_read(name)
        if report is None or report["finished_at"] < started:
            failed.append(name)
            results.append(Result(f"{name}: did not finish (exit {done.returncode})", "—", "—", "—", False))
            continue
        results.extend(Result(**row) for row in report["results"])

    common.RESULTS_DIR.mkdir(exist_ok=True)
    summary = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "benchmarks": names,
        "failed_to_run": failed,
        "passed": all(r.passed is not False for r in results),
        "results": [r.__dict__ for r in results],
    }
    (common.RESULTS_DIR / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    common.table_print(results, title="make bench: every figure beside its baseline from the same run")
    common.out(f"JSON: {(common.RESULTS_DIR / 'summary.json').relative_to(common.ROOT)} and one file per benchmark.")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
