"""The daily usage rollup: after the batch commits, once per batch, caught up by beat."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accesslogs import rollup
from accesslogs.ingest import rewinding, sessions_ingest
from accesslogs.models import DailyUsage, IngestBatch
from accesslogs.tasks import batch_roll_up, batches_catch_up
from accounts.tests.factories import VerifiedUserFactory
from devices.models import Device

from .factories import CollectorFactory, session_row, sessions_csv

pytestmark = pytest.mark.django_db

MAC = "02:00:00:00:00:21"


def ingest_without_followups(collector, count: int = 3):
    """A batch stored as if its rollup task was lost (the on-commit hooks never run here)."""
    body = sessions_csv([session_row(mac=MAC, bytes_in=100) for _ in range(count)])
    sessions_ingest(collector=collector, source=rewinding(io.BytesIO(body)), fmt="csv")
    return IngestBatch.objects.latest("pk")


@pytest.fixture
def owner():
    user = VerifiedUserFactory()
    Device.objects.create(user=user, mac=MAC)
    return user


def sessions_counted(user) -> int:
    return sum(DailyUsage.objects.filter(user=user).values_list("sessions", flat=True))


def test_a_batch_is_added_once_however_often_its_task_runs(owner):
    batch = ingest_without_followups(CollectorFactory())
    assert sessions_counted(owner) == 0

    assert batch_roll_up(batch.pk) is True
    assert batch_roll_up(batch.pk) is False
    assert sessions_counted(owner) == 3
    assert DailyUsage.objects.get(user=owner).bytes_in == 300
    device = Device.objects.get(mac=MAC)
    assert device.last_seen_at is not None
    assert device.session_count == 3


def test_the_device_count_follows_the_rollup_the_sweep_and_a_device_added_again(owner):
    collector = CollectorFactory()
    batch_roll_up(ingest_without_followups(collector, count=2).pk)
    batch_roll_up(ingest_without_followups(collector, count=3).pk)
    assert Device.objects.get(mac=MAC).session_count == 5

    # The same MAC address under another account is not this device's.
    other = VerifiedUserFactory()
    DailyUsage.objects.create(user=other, mac=MAC, day=timezone.localdate(), sessions=100)
    # Removed and added again: the sessions already recorded with it count again.
    Device.objects.filter(mac=MAC).delete()
    assert Device.objects.create(user=owner, mac=MAC).session_count == 5
    assert Device.objects.get(mac=MAC).session_count == 5

    # The retention sweep takes off the sessions of the days it expires.
    first_day = DailyUsage.objects.filter(user=owner).order_by("day").first()
    DailyUsage.objects.create(user=owner, mac=MAC, day=first_day.day - timedelta(days=400), sessions=4)
    Device.objects.filter(mac=MAC).update(session_count=9)
    rollup.device_counts_expire(expired=DailyUsage.objects.filter(day__lt=first_day.day - timedelta(days=1)))
    assert Device.objects.get(mac=MAC).session_count == 5


def test_beat_adds_the_batches_whose_task_never_ran(owner):
    collector = CollectorFactory()
    old = ingest_without_followups(collector, count=2)
    IngestBatch.objects.filter(pk=old.pk).update(stored_at=timezone.now() - rollup.catch_up_after() - timedelta(1))
    recent = ingest_without_followups(collector, count=5)

    assert batches_catch_up() == 1  # the recent one may still have its task on the way
    assert sessions_counted(owner) == 2
    IngestBatch.objects.filter(pk=recent.pk).update(stored_at=timezone.now() - rollup.catch_up_after() - timedelta(1))
    assert batches_catch_up() == 1
    assert batches_catch_up() == 0
    assert sessions_counted(owner) == 7


def test_two_batches_of_one_collector_each_count_their_own_rows(owner):
    collector = CollectorFactory()
    first = ingest_without_followups(collector, count=2)
    other_collector_batch = ingest_without_followups(CollectorFactory(), count=4)
    second = ingest_without_followups(collector, count=1)
    for batch in (second, first, other_collector_batch):
        batch_roll_up(batch.pk)
    assert sessions_counted(owner) == 7
    assert [first.sessions, second.sessions, other_collector_batch.sessions] == [2, 1, 4]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rolls_up_a_batch_once_it_commits(celery_worker, owner):
    collector = CollectorFactory()
    body = sessions_csv([session_row(mac=MAC) for _ in range(4)])
    sessions_ingest(collector=collector, source=rewinding(io.BytesIO(body)), fmt="csv")

    assert celery_worker.wait_for_tasks("accesslogs.tasks.batch_roll_up") == {"accesslogs.tasks.batch_roll_up": 1}
    assert sessions_counted(owner) == 4
    assert IngestBatch.objects.get().rolled_up_at is not None
