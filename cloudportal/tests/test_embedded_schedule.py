"""The beat schedule without Celery beat: the embedded schedule (cloudportal/jobs.py)
runs each job when its Celery schedule says it is due, keeps its last runs across
restarts, and lives in the process `manage.py runserver` serves from, only there,
stopping with it."""

import json
import os
import re
import signal
import threading
import time
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.utils import timezone

from cloudportal.jobs import EmbeddedSchedule, jobs

SCHEDULE = {
    "often": {"task": "cloudportal.outbox.tasks.emails_send_pending", "schedule": 60.0},
    "nightly": {"task": "portal.tasks.retention_sweep", "schedule": crontab(hour=3, minute=15)},
    "new": {"task": "exports.tasks.exports_expire", "schedule": 3600.0},
}


def state_write(path, **last_runs) -> None:
    path.write_text(json.dumps({name: at.isoformat() for name, at in last_runs.items()}))


def test_each_job_runs_when_its_celery_schedule_is_due_and_its_last_run_survives_a_restart(settings, tmp_path):
    settings.CELERY_BEAT_SCHEDULE = SCHEDULE
    state = tmp_path / "state.json"
    now = timezone.now()
    state_write(state, often=now - timedelta(seconds=61), nightly=now - timedelta(days=2))
    ran: list[str] = []

    wait = EmbeddedSchedule(state_path=state, run=lambda *, name: ran.append(name)).run_due()

    # Both were due; the job never seen before counts from now, as beat does.
    assert ran == ["often", "nightly"]
    assert 0 < wait <= 60
    stored = {name: timezone.datetime.fromisoformat(at) for name, at in json.loads(state.read_text()).items()}
    assert set(stored) == {"often", "nightly", "new"} and all(at >= now for at in stored.values())

    # Restarted (the autoreloader restarts the server at each code change): nothing is due.
    ran.clear()
    EmbeddedSchedule(state_path=state, run=lambda *, name: ran.append(name)).run_due()
    assert ran == []


def test_a_failing_job_is_logged_and_the_others_still_run(settings, tmp_path, caplog):
    settings.CELERY_BEAT_SCHEDULE = SCHEDULE
    state = tmp_path / "state.json"
    long_ago = timezone.now() - timedelta(days=2)
    state_write(state, often=long_ago, nightly=long_ago, new=long_ago)
    ran: list[str] = []

    def run(*, name):
        ran.append(name)
        if name == "often":
            raise RuntimeError("customer@example.com is down")

    EmbeddedSchedule(state_path=state, run=run).run_due()

    assert ran == ["often", "nightly", "new"]
    assert "often failed (RuntimeError)" in caplog.text
    assert "customer@example.com" not in caplog.text  # error classes only, no personal data


def test_stop_lets_a_job_in_progress_finish_then_ends_the_thread(settings, tmp_path):
    settings.CELERY_BEAT_SCHEDULE = {"often": SCHEDULE["often"]}
    state = tmp_path / "state.json"
    state_write(state, often=timezone.now() - timedelta(minutes=5))
    started, finished = threading.Event(), threading.Event()

    def run(*, name):
        started.set()
        time.sleep(0.5)
        finished.set()

    schedule = EmbeddedSchedule(state_path=state, run=run)
    schedule.start()
    assert started.wait(10)
    schedule.stop()

    assert finished.is_set() and not schedule.running
    assert "often" in json.loads(state.read_text())
    schedule.stop()  # twice: nothing more


def test_no_other_command_and_no_test_starts_the_schedule(settings):
    settings.EMBEDDED_SCHEDULE = True
    call_command("check")
    call_command("run_job", "--list")
    assert not any(t.name == "embedded-schedule" for t in threading.enumerate())


def test_every_beat_entry_has_a_celery_schedule_and_a_task(settings):
    from cloudportal.celery import app

    app.loader.import_default_modules()
    assert set(jobs()) == set(settings.CELERY_BEAT_SCHEDULE)
    for job in jobs().values():
        assert job.task in app.tasks, job.task
        assert hasattr(job.schedule, "is_due")
        assert getattr(app.tasks[job.task], "job_done", None), f"{job.task} says nothing of what it did"


# --- manage.py runserver, as under `make run` ----------------------------------------

#: The erasure job every second instead of every five minutes.
FAST = """
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "run-due-account-erasures": {**CELERY_BEAT_SCHEDULE["run-due-account-erasures"], "schedule": 1.0},
}
"""
STARTED = r"embedded schedule started in process (\d+)"


@pytest.mark.embedded
def test_runserver_runs_the_schedule_in_the_serving_process_only_and_restarts_it_with_the_server(embedded_portal):
    portal = embedded_portal(settings=FAST)
    [started] = portal.wait_for_log(STARTED)
    child = int(started.group(1))
    assert child != portal.process.pid  # the autoreloader's child serves; its parent only watches
    portal.wait_for_log(r"embedded schedule: run-due-account-erasures ran in")

    # A code change: the child exits, its schedule with it, and a new child starts one.
    later = time.time() + 5
    os.utime(portal.settings_path, (later, later))
    portal.wait_for_log(rf"embedded schedule stopped in process {child}\b")
    restarted = int(portal.wait_for_log(STARTED, count=2)[1].group(1))
    assert restarted not in (child, portal.process.pid)

    assert portal.stop(signal.SIGINT) == 0  # Control-C
    assert len(re.findall(STARTED, portal.log())) == 2  # never two at once, never in the parent


@pytest.mark.embedded
def test_with_noreload_the_schedule_stops_cleanly_with_the_server(embedded_portal):
    portal = embedded_portal(settings=FAST, reload=False)
    [started] = portal.wait_for_log(STARTED)
    assert int(started.group(1)) == portal.process.pid
    # Another command on the same settings runs no schedule of its own.
    assert "embedded schedule" not in portal.manage("run_job", "--list")

    assert portal.stop(signal.SIGTERM) == 0
    assert f"embedded schedule stopped in process {portal.process.pid}" in portal.log()
