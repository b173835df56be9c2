"""Real Celery workers for the benchmarks (export, notice): started as processes of
their own on the bench database and a Redis broker of their own, driven through a
control app, stopped at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import REDIS_URL, ROOT, SETTINGS, database_url


def celery_control(name: str, broker_url: str):
    """A Celery app for sending tasks and pings to the bench's own workers, on their
    broker (a Redis database of their own), emptied first."""
    from celery import Celery

    control = Celery(name, broker=broker_url, set_as_current=False)
    with control.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    return control


def worker_env(db_name: str, broker_url: str, **extra: str) -> dict[str, str]:
    """The environment of a real Celery worker on the bench database and broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(db_name),
        "TEST_REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def worker_start(name: str, *, env: dict[str, str], log: Path, pool: str, queue: str | None = None):
    """A real Celery worker process named `name`, one process in its pool, its output in
    `log`; the Popen."""
    command = [str(Path(sys.executable).with_name("celery")), "-A", "cloudportal", "worker"]
    command += [f"--pool={pool}", "--concurrency=1", *(["-Q", queue] if queue else [])]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning", "-n", name]
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def workers_wait(control, names: Sequence[str], processes: Sequence, logs: Sequence[Path], timeout: float = 60):
    """Wait until every worker answers a ping; RuntimeError, with their logs, when one
    has died or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while len(control.control.ping(destination=list(names), timeout=0.5) or []) < len(names):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError("the workers did not start:\n" + "\n".join(log.read_text() for log in logs))


def processes_stop(processes: Sequence, timeout: float = 30) -> None:
    """SIGTERM to every process still running, then wait for each; kill those that
    outlive `timeout` seconds."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
