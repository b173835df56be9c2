"""The beat schedule's jobs (CELERY_BEAT_SCHEDULE), for the two ways they run without
Celery beat: one of them now, by name (`python manage.py run_job NAME`), and all of
them on their schedule inside the embedded portal's own process (`EmbeddedSchedule`,
which `manage.py runserver` starts when EMBEDDED_SCHEDULE is on, as under `make run`).

Schedules are Celery's own objects (`celery.schedules`: a number of seconds becomes a
`schedule`, a `crontab` stays one), asked `is_due(last_run_at)` as beat asks them. A
job runs its entry's task in this process (`Task.apply`); what the task queues in turn
follows the settings: in this process too when embedded, to the broker otherwise.
A task says what a run did with `job_done`, a format string of its result (a keyword
of its `shared_task`: `job_done="{result} expired exports deleted"`).
The embedded schedule keeps each job's last run in a small JSON file
(EMBEDDED_SCHEDULE_STATE), so a restart (the autoreloader restarts the server at every
code change) neither runs everything again nor forgets a job that was due meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from celery.schedules import BaseSchedule, crontab, maybe_schedule
from celery.utils.time import humanize_seconds
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One entry of CELERY_BEAT_SCHEDULE."""

    name: str
    task: str
    schedule: BaseSchedule
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    @property
    def every(self) -> str:
        """The schedule in words: "every 5.00 minutes", "crontab 15 3 * * *"."""
        if isinstance(self.schedule, crontab):
            fields = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
            return "crontab " + " ".join(str(getattr(self.schedule, f"_orig_{name}")) for name in fields)
        return f"every {humanize_seconds(self.schedule.seconds)}"


@dataclass(frozen=True)
class JobRun:
    job: Job
    result: Any
    seconds: float
    #: What it did, in words: the task's `job_done` ("{result} expired exports deleted").
    done: str


def jobs() -> dict[str, Job]:
    """The beat schedule's entries, by name, with Celery's schedule objects."""
    from cloudportal.celery import app

    return {
        name: Job(
            name=name,
            task=entry["task"],
            schedule=maybe_schedule(entry["schedule"], relative=entry.get("relative", False), app=app),
            args=tuple(entry.get("args", ())),
            kwargs=dict(entry.get("kwargs", {})),
        )
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }


def job_run(*, name: str) -> JobRun:
    """Run the job's task now, in this process; its exception, if it fails. Raises
    KeyError for a name the schedule does not have."""
    from cloudportal.celery import app

    job = jobs()[name]
    app.loader.import_default_modules()  # every app's tasks.py (autodiscovery)
    task = app.tasks[job.task]
    started = time.monotonic()
    result = task.apply(args=job.args, kwargs=job.kwargs, throw=True).result
    done = getattr(task, "job_done", "{task} returned {result!r}").format(task=job.task, result=result)
    return JobRun(job=job, result=result, seconds=time.monotonic() - started, done=done)


class EmbeddedSchedule:
    """The beat schedule, run by a thread of this process: each job when its Celery
    schedule says it is due, one after the other. A job never run before counts from
    the moment the schedule first saw it, as beat does.

    `stop()` lets a job in progress finish (up to `timeout` seconds) and then ends the
    thread; it is safe to call twice."""

    def __init__(
        self,
        *,
        state_path: Path,
        run: Callable[..., object] = job_run,
        longest_wait: float = 60.0,
    ) -> None:
        self.state_path = Path(str(state_path))
        self.run = run
        self.longest_wait = longest_wait
        self.last_runs: dict[str, datetime] = self._state_read()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- State ----------------------------------------------------------------------

    def _state_read(self) -> dict[str, datetime]:
        try:
            stored = json.loads(self.state_path.read_text())
            return {name: datetime.fromisoformat(value) for name, value in stored.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _state_write(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: at.isoformat() for name, at in sorted(self.last_runs.items())}, indent=1))
        tmp.replace(self.state_path)

    # --- One pass ---------------------------------------------------------------------

    def run_due(self) -> float:
        """Run every job that is due; return the seconds until one may be due next."""
        wait = self.longest_wait
        seen = False
        for job in jobs().values():
            if self._stop.is_set():
                break
            if job.name not in self.last_runs:
                self.last_runs[job.name], seen = timezone.now(), True
            due, next_in = job.schedule.is_due(self.last_runs[job.name])
            if due:
                started = timezone.now()
                self._run_one(job)
                # Recorded once it is over: a run cut short with the process (the
                # autoreloader kills its child soon after Control-C) runs again next time.
                self.last_runs[job.name] = started
                self._state_write()
                next_in = job.schedule.is_due(started).next
            wait = min(wait, next_in)
        if seen:
            self._state_write()
        return max(wait, 0.05)

    def _run_one(self, job: Job) -> None:
        close_old_connections()
        try:
            run = self.run(name=job.name)
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            # The error's class only: messages can carry personal data.
            logger.error("embedded schedule: %s failed (%s)", job.name, type(exc).__name__)
        else:
            seconds = getattr(run, "seconds", 0.0)
            logger.info("embedded schedule: %s ran in %.2f s", job.name, seconds)
        finally:
            close_old_connections()

    # --- The thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="embedded-schedule", daemon=True)
        self._thread.start()
        logger.info("embedded schedule started in process %s: %s jobs", os.getpid(), len(jobs()))

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._stop.wait(self.run_due())
        finally:
            connections.close_all()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None or self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning(
                "embedded schedule: a job still running after %.0f s is left to end with the process", timeout
            )
        else:
            logger.info("embedded schedule stopped in process %s", os.getpid())
