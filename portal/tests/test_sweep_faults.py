"""A process killed in the middle of a retention sweep (marker `faults`): the sweep
runs in a process of its own (the code of the beat task, at a later `now`), which
is killed with SIGKILL between detaching a partition and dropping it, or between two
of the batched deletes of the boundary month; the next sweep finishes the job."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection

from accesslogs.models import IngestBatch
from accesslogs.partitions import partition_name, partitions_existing
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.months import add_months, month_add, month_start
from cloudportal.testing.faults import fault_env, kill, wait_until
from cloudportal.testing.worker import _database_url
from compliance.models import SweepRun
from compliance.tests.factories import LegalHoldFactory
from devices.services import device_add
from portal.sweep import retention_sweep
from portal.tests import test_sweep
from portal.tests.test_sweep import MAC_A, MAC_B, _alive, _notices

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SWEEP = (
    "import sys, django; django.setup(); from datetime import datetime; "
    "from portal.sweep import retention_sweep; retention_sweep(now=datetime.fromisoformat(sys.argv[1]))"
)


@pytest.fixture
def cutoff():
    return test_sweep._cutoff()


@pytest.fixture
def sweep_now(cutoff):
    return add_months(cutoff, 12)


@pytest.fixture
def customer():
    user = VerifiedUserFactory()
    device_add(user=user, mac=MAC_A, label="Phone")
    device_add(user=user, mac=MAC_B, label="Laptop")
    return user


def _record(**rows):
    """The sessions, ingested, once the worker has rolled them up into the daily usage."""
    recorded = test_sweep._record(**rows)
    wait_until(lambda: not IngestBatch.objects.filter(rolled_up_at=None).exists(), what="the rollup")
    return recorded


def _sweep_killed_at(faults, pause: str, *, now, batch: int = 10_000) -> None:
    """Run a sweep at `now` in a process of its own, and kill it at `pause`."""
    env = fault_env(
        database_url=_database_url(connection.settings_dict),
        pause_dir=faults.pauses.directory,
        broker_url=faults.broker_url,
        smtp=faults.smtp.sink,
        CELERY_TASK_ALWAYS_EAGER="true",
        ACCESS_LOG_SWEEP_BATCH=str(batch),
    )
    faults.pauses.hold(pause)
    process = subprocess.Popen([sys.executable, "-c", SWEEP, now.isoformat()], cwd=settings.BASE_DIR, env=env)
    try:
        pid = faults.pauses.wait_reached(pause, timeout=30)
        assert pid == process.pid
        kill(pid)
    finally:
        faults.pauses.release(pause)
        process.kill()
        process.wait()
    assert process.returncode == -9


def test_a_sweep_killed_between_detaching_a_partition_and_dropping_it_is_finished_by_the_next(
    faults, customer, cutoff, sweep_now
):
    LegalHoldFactory(mac=MAC_B, starts_at=add_months(sweep_now, -14), customer_may_be_told=True)
    s = _record(
        thirteen=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)),
        thirteen_held=dict(mac=MAC_B, started_at=add_months(sweep_now, -13)),
        boundary_before=dict(mac=MAC_A, started_at=cutoff - timedelta(days=2)),
        eleven=dict(mac=MAC_B, started_at=add_months(sweep_now, -11)),
    )
    month_before = partition_name(month_add(month_start(cutoff), -1))
    every = {x.session_id for x in s.values()}
    partitions = set(partitions_existing())
    assert month_before in partitions

    _sweep_killed_at(faults, "sweep.partition_detached", now=sweep_now)
    # The detach, the held rows' copy and the drop were one transaction: all undone.
    assert set(partitions_existing()) == partitions
    assert _alive(*s.values()) == every
    assert SweepRun.objects.get().finished_at is None  # the killed run says it never finished

    run = retention_sweep(now=sweep_now)
    assert month_before not in partitions_existing()
    assert _alive(*s.values()) == {s["thirteen_held"].session_id, s["eleven"].session_id}
    assert run.finished_at is not None and run.counts["access_logs"]["held sessions kept"] == 1
    assert _notices(customer) == ["2 sessions older than 12 months"]  # told once, the right number


def test_a_sweep_killed_between_two_batched_deletes_is_finished_by_the_next(faults, customer, cutoff, sweep_now):
    LegalHoldFactory(mac=MAC_B, starts_at=add_months(sweep_now, -14), customer_may_be_told=True)
    old = {f"old{i}": dict(mac=MAC_A, started_at=cutoff - timedelta(days=2, minutes=i)) for i in range(5)}
    s = _record(
        **old,
        held=dict(mac=MAC_B, started_at=cutoff - timedelta(days=3)),
        after=dict(mac=MAC_A, started_at=cutoff + timedelta(days=1)),
    )
    olds = [s[name] for name in old]

    _sweep_killed_at(faults, "sweep.batch_deleted", now=sweep_now, batch=2)
    # The first batch of two was committed; the rest waits; nothing else went.
    assert len(_alive(*olds)) == 3
    assert _alive(s["held"], s["after"]) == {s["held"].session_id, s["after"].session_id}

    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["held"].session_id, s["after"].session_id}
    assert _notices(customer) == ["5 sessions older than 12 months"]
