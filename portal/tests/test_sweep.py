"""The retention sweep on PostgreSQL (SPEC §2, §4, §6): what it erases, what legal holds
keep, and two sweeps at once.

Sessions come in through the real ingest (attribution, subscribers, daily rollup);
the sweep then runs at a later `now`, so that they are 13 or 11 months old by then.
The cutoff falls on the 15th of a month, so that the month before it is dropped as a
whole partition and its own month is swept row by row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from accesslogs.models import DailyUsage, NetworkSession, Subscriber
from accesslogs.partitions import partition_name, partitions_ensure, partitions_existing
from accesslogs.retention import retention_cutoff
from accesslogs.sweep import HELD_PARTITION
from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.models import ActivityEvent, DataRequest
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from cloudportal.months import add_months, month_add, month_start
from cloudportal.privacy import category
from compliance.models import LegalHold, SweepRun
from compliance.services import legal_hold_lift
from compliance.tests.factories import LegalHoldFactory
from devices.services import device_add
from portal.sweep import retention_sweep

pytestmark = pytest.mark.django_db

MAC_A, MAC_B = "02:AA:00:00:00:01", "02:BB:00:00:00:02"


def _cutoff() -> datetime:
    """The 15th, noon UTC, of the month two months back: a cutoff whose month and the
    month before both hold sessions that ingest still accepts today."""
    two_back = add_months(timezone.now().astimezone(UTC), -2)
    return two_back.replace(day=15, hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def cutoff():
    return _cutoff()


@pytest.fixture
def sweep_now(cutoff):
    return add_months(cutoff, 12)


@pytest.fixture
def customer():
    user = VerifiedUserFactory()
    device_add(user=user, mac=MAC_A, label="Phone")
    device_add(user=user, mac=MAC_B, label="Laptop")
    return user


def _record(**rows) -> dict[str, NetworkSession]:
    """Ingest one session per name (values for session_row); return them by name."""
    collector = CollectorFactory()
    ids = {}
    for name, values in rows.items():
        values.setdefault("ended_at", values["started_at"] + timedelta(minutes=30))
        ids[name] = f"sweep-{name}-{collector.pk}"
        values["session_id"] = ids[name]
    sessions_record(collector, list(rows.values()))
    by_session_id = {s.session_id: s for s in NetworkSession.objects.filter(session_id__in=ids.values())}
    return {name: by_session_id[session_id] for name, session_id in ids.items()}


def _alive(*sessions: NetworkSession) -> set[str]:
    return set(NetworkSession.objects.filter(pk__in=[s.pk for s in sessions]).values_list("session_id", flat=True))


def test_sessions_13_months_old_are_erased_11_months_old_kept_and_the_customer_told_once(customer, cutoff, sweep_now):
    s = _record(
        thirteen=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)),
        boundary_before=dict(mac=MAC_A, started_at=cutoff - timedelta(days=2)),
        boundary_after=dict(mac=MAC_B, started_at=cutoff + timedelta(days=2)),
        eleven=dict(mac=MAC_B, started_at=add_months(sweep_now, -11)),
    )
    month_before = partition_name(month_add(month_start(cutoff), -1))
    assert month_before in partitions_existing()

    run = retention_sweep(now=sweep_now)

    assert _alive(*s.values()) == {s["boundary_after"].session_id, s["eleven"].session_id}
    assert month_before not in partitions_existing()  # dropped whole, not deleted row by row
    assert run.counts["access_logs"]["partitions dropped"] >= 1
    assert run.counts["access_logs"]["sessions deleted"] == 1  # the one in the boundary month
    # The daily rollup of the erased days went too, and gave the count of the notice.
    assert not DailyUsage.objects.filter(user=customer, day__lt=timezone.localdate(cutoff)).exists()
    assert DailyUsage.objects.filter(user=customer).count() == 2
    history = ActivityEvent.objects.get(user=customer, category="access_logs", action="deleted")
    assert history.note == "2 sessions older than 12 months" and history.actor_kind == "job"
    [notice] = OutboundEmail.objects.filter(to=customer.email, template="emails/sessions_erased")
    assert "2 of your sessions were erased" in notice.subject and notice.body_html
    assert run.notices == 1
    # The coming months' partitions exist, from the sweep's own date.
    this_month = month_start(sweep_now.astimezone(UTC))
    assert {partition_name(month_add(this_month, n)) for n in range(1, 4)} <= set(partitions_existing())

    again = retention_sweep(now=sweep_now)
    assert again.counts["access_logs"]["sessions deleted"] == 0
    assert again.notices == 0 and SweepRun.objects.count() == 2


def _notices(user) -> list[str]:
    """The notes of the customer's "sessions erased" history entries, oldest first."""
    entries = ActivityEvent.objects.filter(user=user, category="access_logs", action="deleted")
    return list(entries.order_by("created_at", "id").values_list("note", flat=True))


def test_the_notice_gives_the_number_erased_also_on_the_boundary_day(customer, cutoff, sweep_now):
    """The sweep erases what started before the cutoff, to the minute; the day the
    cutoff falls on was counted from the daily rollup only once the day was over, so
    the notice said fewer than were erased, and the next sweep's said more."""
    _record(
        thirteen=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)),
        same_day_before=dict(mac=MAC_A, started_at=cutoff - timedelta(hours=2)),
        same_day_before_too=dict(mac=MAC_B, started_at=cutoff - timedelta(hours=1)),
        same_day_after=dict(mac=MAC_A, started_at=cutoff + timedelta(hours=1)),
    )
    run = retention_sweep(now=sweep_now)
    assert run.counts["access_logs"]["sessions deleted"] == 2  # the boundary month's, row by row
    assert _notices(customer) == ["3 sessions older than 12 months"]
    [email] = OutboundEmail.objects.filter(to=customer.email, template="emails/sessions_erased")
    assert "3 of your sessions were erased" in email.subject

    retention_sweep(now=sweep_now)  # twice: nothing more erased, nothing more told
    assert _notices(customer) == ["3 sessions older than 12 months"]
    later = retention_sweep(now=sweep_now + timedelta(days=1))
    assert later.counts["access_logs"]["sessions deleted"] == 1
    assert _notices(customer) == ["3 sessions older than 12 months", "1 session older than 12 months"]
    retention_sweep(now=sweep_now + timedelta(days=3))
    assert len(_notices(customer)) == 2
    assert not DailyUsage.objects.filter(user=customer, day__lte=timezone.localdate(cutoff)).exists()


def test_the_notice_counts_the_first_hours_of_a_local_day_in_the_month_dropped_whole(customer):
    """Paris is ahead of UTC: the first hour of a local day that begins a month is in
    the month before's partition, dropped whole by the sweep whose cutoff falls that
    morning."""
    first = month_start_utc(add_months(timezone.now(), -2))
    cutoff = first + timedelta(minutes=45)  # 01:45 or 02:45 in Paris, on the 1st
    _record(
        last_hour_before=dict(mac=MAC_A, started_at=first - timedelta(minutes=30)),  # the 1st in Paris
        first_minutes=dict(mac=MAC_A, started_at=first + timedelta(minutes=10)),
        after=dict(mac=MAC_B, started_at=cutoff + timedelta(minutes=30)),
        day_before=dict(mac=MAC_B, started_at=first - timedelta(hours=30)),
    )
    run = retention_sweep(now=add_months(cutoff, 12))
    assert run.counts["access_logs"]["partitions dropped"] >= 1
    assert run.counts["access_logs"]["sessions deleted"] == 1
    assert _notices(customer) == ["3 sessions older than 12 months"]
    retention_sweep(now=add_months(cutoff, 12) + timedelta(days=1))
    assert _notices(customer) == ["3 sessions older than 12 months", "1 session older than 12 months"]


@pytest.mark.parametrize("told", [True, False], ids=["hold-the-customer-may-know-of", "secret-hold"])
def test_held_sessions_are_told_erased_when_the_customer_sees_them_go(customer, cutoff, sweep_now, told):
    """A hold the customer may know of keeps its sessions on /logs/, held: they are not
    counted as erased until they are, after the hold. A secret hold changes nothing the
    customer is told: its sessions are counted the day they would have gone, and not
    again when they do."""
    _record(
        thirteen=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)),
        held_old=dict(mac=MAC_B, started_at=add_months(sweep_now, -13)),
        held_same_day=dict(mac=MAC_B, started_at=cutoff - timedelta(hours=1)),
        free_same_day=dict(mac=MAC_A, started_at=cutoff - timedelta(hours=2)),
    )
    hold = LegalHoldFactory(mac=MAC_B, starts_at=add_months(sweep_now, -14), customer_may_be_told=told)
    retention_sweep(now=sweep_now)
    retention_sweep(now=sweep_now + timedelta(hours=1))
    first = "2 sessions older than 12 months" if told else "4 sessions older than 12 months"
    assert _notices(customer) == [first]
    retention_sweep(now=sweep_now + timedelta(days=1))
    assert _notices(customer) == [first]
    legal_hold_lift(hold=hold, staff=hold.created_by, reason="Closed")
    retention_sweep(now=sweep_now + timedelta(days=2))
    assert not NetworkSession.objects.filter(subscriber__user=customer, started_at__lt=cutoff).exists()
    assert _notices(customer) == ([first, "2 sessions older than 12 months"] if told else [first])


def test_a_customer_who_turned_notices_off_gets_no_email_but_the_history_entry(customer, sweep_now):
    customer.email_deletion_notices = False
    customer.save()
    _record(old=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)))
    retention_sweep(now=sweep_now)
    assert ActivityEvent.objects.filter(user=customer, category="access_logs", action="deleted").count() == 1
    assert not OutboundEmail.objects.filter(to=customer.email).exists()


def test_held_sessions_are_kept_until_the_hold_ends_and_erased_by_the_next_sweep(customer, cutoff, sweep_now):
    s = _record(
        thirteen=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)),
        boundary=dict(mac=MAC_A, started_at=cutoff - timedelta(days=2)),
    )
    hold = LegalHoldFactory(mac=MAC_A, starts_at=add_months(sweep_now, -14), ends_at=cutoff)

    first = retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["thirteen"].session_id, s["boundary"].session_id}
    assert first.counts["access_logs"]["held sessions kept"] == 1
    with connection.cursor() as cursor:  # its month is gone: it lives in the DEFAULT partition
        cursor.execute(
            "SELECT tableoid::regclass::text FROM accesslogs_networksession WHERE id = %s", [s["thirteen"].pk]
        )
        assert cursor.fetchone()[0] == HELD_PARTITION
    assert retention_sweep(now=sweep_now).counts["access_logs"]["sessions deleted"] == 0  # still held

    legal_hold_lift(hold=hold, staff=hold.created_by, reason="Investigation closed")
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == set()
    assert [e.action for e in hold.events.all()] == ["placed", "lifted"]


def test_an_expired_hold_stops_holding_and_its_expiry_is_recorded_once(customer, sweep_now):
    s = _record(old=dict(mac=MAC_A, started_at=add_months(sweep_now, -13)))
    hold = LegalHoldFactory(mac=MAC_A, expires_at=timezone.now() + timedelta(days=1))
    assert _alive(*s.values()) and retention_sweep(now=timezone.now()).counts["legal_holds"]["expired"] == 0
    retention_sweep(now=sweep_now)  # later than the expiry
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == set()
    assert list(hold.events.values_list("action", flat=True)) == ["placed", "expired"]


def test_a_hold_on_one_mac_address_keeps_none_of_another(customer, sweep_now):
    old = add_months(sweep_now, -13)
    s = _record(a=dict(mac=MAC_A, started_at=old), b=dict(mac=MAC_B, started_at=old, ip="192.0.2.10"))
    LegalHoldFactory(mac=MAC_A, starts_at=old - timedelta(days=1))
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["a"].session_id}


def test_a_hold_on_an_ip_address_or_a_time_range_keeps_only_what_matches(customer, sweep_now):
    old = add_months(sweep_now, -13)
    s = _record(
        in_range=dict(mac=MAC_A, ip="198.51.100.7", started_at=old),
        other_ip=dict(mac=MAC_A, ip="198.51.100.8", started_at=old),
        too_early=dict(mac=MAC_A, ip="198.51.100.7", started_at=old - timedelta(days=3)),
    )
    LegalHoldFactory(scope="ip", mac="", ip="198.51.100.7", starts_at=old - timedelta(hours=1), ends_at=old)
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["in_range"].session_id}


def test_an_account_hold_keeps_the_sessions_after_the_account_is_erased(customer, sweep_now):
    old = add_months(sweep_now, -13)
    s = _record(mine=dict(mac=MAC_A, started_at=old))
    LegalHoldFactory(scope="account", account=customer, mac="", starts_at=old - timedelta(days=1))
    category("access_logs").erase(customer)  # detaches the account's subscribers
    assert Subscriber.objects.filter(pk=s["mine"].subscriber_id, user__isnull=True).exists()
    customer.delete()
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["mine"].session_id}
    assert LegalHold.objects.get().scope_value.startswith("former account")


def test_an_account_deleted_any_other_way_keeps_its_held_sessions(customer, sweep_now):
    """Not through erasure: the holds pin the account's subscribers before the delete
    detaches them (placing the hold pinned nothing)."""
    old = add_months(sweep_now, -13)
    s = _record(mine=dict(mac=MAC_A, started_at=old))
    hold = LegalHoldFactory(scope="account", account=customer, mac="", starts_at=old - timedelta(days=1))
    assert LegalHold.objects.get(pk=hold.pk).subscriber_ids == []
    customer.delete()
    assert LegalHold.objects.get(pk=hold.pk).subscriber_ids == [s["mine"].subscriber_id]
    retention_sweep(now=sweep_now)
    assert _alive(*s.values()) == {s["mine"].session_id}


def test_answered_data_requests_go_12_months_after_their_answer(customer):
    now = timezone.now()
    old = DataRequest.objects.create(
        user=customer, kind="information", message="?", due_at=now, status="answered", answered_at=add_months(now, -13)
    )
    recent = DataRequest.objects.create(
        user=customer, kind="information", message="?", due_at=now, status="answered", answered_at=add_months(now, -11)
    )
    still_open = DataRequest.objects.create(
        user=customer, kind="information", message="?", due_at=now, created_at=add_months(now, -14)
    )
    run = retention_sweep(now=now)
    assert set(DataRequest.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert old.pk is not None and run.counts["data_requests"] == {"data requests": 1}
    assert ActivityEvent.objects.filter(user=customer, category="data_requests", action="deleted").exists()


# --- Two sweeps at once: real transactions, real connections --------------------


def _old_sessions(*, month_back: int, count: int, start: datetime) -> None:
    """Sessions straight into the table, as old as ingest would refuse (the month's
    partition made first), each an hour apart from `start`."""
    from accesslogs.models import Collector, Site

    partitions_ensure([start])
    collector = Collector.objects.create(name=f"Old {month_back}", token_prefix="x", token_hash=f"{month_back:064d}")
    site = Site.objects.create(name=f"Old site {month_back}")
    NetworkSession.objects.bulk_create(
        NetworkSession(
            collector=collector,
            session_id=f"old-{month_back}-{n}",
            mac=MAC_A,
            ip="192.0.2.1",
            site=site,
            started_at=start + timedelta(hours=n),
            ended_at=start + timedelta(hours=n, minutes=5),
            bytes_in=1,
            bytes_out=1,
        )
        for n in range(count)
    )


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_erase_the_same_rows_and_raise_nothing(database_route):
    now = timezone.now()
    cutoff = retention_cutoff(now)
    expired_month = month_add(month_start(cutoff.astimezone(UTC)), -1)
    _old_sessions(month_back=13, count=30, start=datetime(expired_month.year, expired_month.month, 2, tzinfo=UTC))
    _old_sessions(month_back=12, count=3, start=max(cutoff - timedelta(hours=5), month_start_utc(cutoff)))
    recent = NetworkSession.objects.filter(started_at__gte=cutoff).count()

    barrier, runs, errors = threading.Barrier(2), [], []

    def sweep():
        try:
            barrier.wait()
            runs.append(retention_sweep(now=now))
        except Exception as exc:  # noqa: BLE001 - the test reports any exception
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and len(runs) == 2
    assert not NetworkSession.objects.filter(started_at__lt=cutoff).exists()
    assert NetworkSession.objects.count() == recent
    assert partition_name(expired_month) not in partitions_existing()
    counts = [run.counts["access_logs"] for run in runs]
    assert sorted(c["partitions dropped"] for c in counts) == [0, 1]
    assert sorted(c["sessions deleted"] for c in counts) == [0, 3]


def month_start_utc(moment: datetime) -> datetime:
    first = month_start(moment.astimezone(UTC))
    return datetime(first.year, first.month, first.day, tzinfo=UTC)
