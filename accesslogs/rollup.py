"""The daily usage rollup and the devices' last seen and session counts, kept from
stored ingest batches.

Ingest stores a batch's sessions and an IngestBatch row in one transaction and asks
for `batch_roll_up` once it commits, so the batch's writing does not wait for its
sums. The rollup runs in a transaction of its own, with the batch row locked, and
marks the batch done: each batch is added once, whoever runs it and however often.
Until then, totals on /logs/, session counts on /devices/ and the dashboard (its
cached cards, replaced for the batch's customers by the rollup) leave the batch out
(seconds, on a running worker).

A device's `session_count` is the sum of its (customer, MAC) daily usage: the rollup
adds each batch's sessions to it, the retention sweep takes away those of the days
it expires (`device_counts_expire`), and a device added again starts from the usage
its MAC address already has under that customer (`device_count_start`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from cloudportal.fragments import customer_changed
from devices.models import Device

from .models import DailyUsage, IngestBatch, NetworkSession, Subscriber


def catch_up_after() -> timedelta:
    """Beat adds a batch whose task has not run after this long (a broker outage):
    INGEST_ROLLUP_CATCH_UP_SECONDS."""
    return timedelta(seconds=settings.INGEST_ROLLUP_CATCH_UP_SECONDS)


_USAGE_UPSERT = (
    "INSERT INTO {table} AS u (user_id, mac, day, sessions, seconds, bytes_in, bytes_out) {rows} "
    "ON CONFLICT (user_id, mac, day) DO UPDATE SET "
    "sessions = u.sessions + excluded.sessions, seconds = u.seconds + excluded.seconds, "
    "bytes_in = u.bytes_in + excluded.bytes_in, bytes_out = u.bytes_out + excluded.bytes_out"
)

#: The batch's attributed sessions, with their account: `{columns}` filled in.
_BATCH_ROWS = (
    "SELECT {columns} FROM {sessions} AS s JOIN {subscribers} AS a ON a.id = s.subscriber_id "
    "WHERE s.collector_id = %(collector)s AND s.id > %(after)s AND s.id <= %(last)s "
    "AND s.started_at >= %(start)s AND s.started_at <= %(until)s AND a.user_id IS NOT NULL"
)


def batch_roll_up(*, batch_id: int) -> bool:
    """Add the batch's sessions to the daily usage and move its devices' last seen.
    False when the batch was rolled up already (or is being, by another worker)."""
    with transaction.atomic():
        batch = IngestBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id, rolled_up_at=None).first()
        if batch is None:
            return False
        if connection.vendor == "postgresql":
            _roll_up_in_sql(batch)
        else:
            _roll_up_in_python(batch)
        batch.rolled_up_at = timezone.now()
        batch.save(update_fields=["rolled_up_at"])
    return True


def batches_pending(*, now: datetime | None = None) -> list[int]:
    """Batches stored a while ago whose rollup has not run, oldest first."""
    older = (now or timezone.now()) - catch_up_after()
    pending = IngestBatch.objects.filter(rolled_up_at=None, stored_at__lt=older).order_by("stored_at")
    return list(pending.values_list("pk", flat=True)[:1000])


def batches_catch_up(*, now: datetime | None = None) -> int:
    """Roll up the batches whose task never ran (a broker outage); returns how many."""
    pending = batches_pending(now=now)
    for batch_id in pending:
        batch_roll_up(batch_id=batch_id)
    return len(pending)


def _params(batch: IngestBatch) -> dict:
    return {
        "collector": batch.collector_id,
        "after": batch.after_id,
        "last": batch.last_id,
        "start": batch.started_from,
        "until": batch.started_until,
        "zone": settings.TIME_ZONE,
    }


def _roll_up_in_sql(batch: IngestBatch) -> None:
    tables = {"sessions": NetworkSession._meta.db_table, "subscribers": Subscriber._meta.db_table}
    sums = _BATCH_ROWS.format(
        columns="a.user_id, s.mac, (s.started_at AT TIME ZONE %(zone)s)::date, count(*), "
        "sum(extract(epoch FROM s.ended_at - s.started_at))::bigint, sum(s.bytes_in), sum(s.bytes_out)",
        **tables,
    )
    seen = _BATCH_ROWS.format(columns="a.user_id, s.mac, max(s.ended_at) AS seen, count(*) AS n", **tables)
    with connection.cursor() as cursor:
        cursor.execute(
            _USAGE_UPSERT.format(table=DailyUsage._meta.db_table, rows=f"{sums} GROUP BY 1, 2, 3")
            + " RETURNING user_id",
            _params(batch),
        )
        customers = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"UPDATE {Device._meta.db_table} AS d "  # noqa: S608 - table names from the models
            "SET last_seen_at = GREATEST(d.last_seen_at, v.seen), session_count = d.session_count + v.n "
            f"FROM ({seen} GROUP BY 1, 2) AS v "
            "WHERE d.mac = v.mac AND d.user_id = v.user_id",
            _params(batch),
        )
    customer_changed(*customers)  # their dashboards show these sessions now


def _roll_up_in_python(batch: IngestBatch) -> None:
    """The embedded SQLite run: its batches are small."""
    rows = NetworkSession.objects.filter(
        collector_id=batch.collector_id,
        id__gt=batch.after_id,
        id__lte=batch.last_id,
        subscriber__user__isnull=False,
    ).values_list("subscriber__user_id", "mac", "started_at", "ended_at", "bytes_in", "bytes_out")
    usage: dict[tuple, list[int]] = {}
    last_seen: dict[tuple[int, str], datetime] = {}
    counted: dict[tuple[int, str], int] = {}
    for user_id, mac, started, ended, bytes_in, bytes_out in rows.iterator():
        sums = usage.setdefault((user_id, mac, timezone.localdate(started)), [0, 0, 0, 0])
        sums[0] += 1
        sums[1] += int((ended - started).total_seconds())
        sums[2] += bytes_in
        sums[3] += bytes_out
        if last_seen.get((user_id, mac), ended) <= ended:
            last_seen[(user_id, mac)] = ended
        counted[(user_id, mac)] = counted.get((user_id, mac), 0) + 1
    table = DailyUsage._meta.db_table
    values = [(*key, *sums) for key, sums in usage.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(values), 100):
            part = values[start : start + 100]
            placeholders = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(_USAGE_UPSERT.format(table=table, rows=placeholders), [v for row in part for v in row])
    customer_changed(*{user_id for user_id, _mac in last_seen})
    for (user_id, mac), seen in last_seen.items():
        device = Device.objects.filter(user_id=user_id, mac=mac)
        device.update(session_count=F("session_count") + counted[(user_id, mac)])
        device.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen)).update(last_seen_at=seen)


def device_counts_expire(*, expired: QuerySet[DailyUsage]) -> int:
    """Take the sessions of the `expired` daily usage (about to be deleted) off the
    session counts of the devices concerned. Returns the devices updated."""
    gone = (
        expired.filter(user_id=OuterRef("user_id"), mac=OuterRef("mac"))
        .order_by()
        .values("user_id", "mac")
        .annotate(n=Sum("sessions"))
        .values("n")
    )
    return Device.objects.filter(Exists(gone)).update(session_count=Greatest(F("session_count") - Subquery(gone), 0))


def device_count_start(sender, instance: Device, created: bool, raw: bool = False, **kwargs) -> None:
    """`post_save` of Device: a device added again (its MAC address already has usage
    under this customer) starts with the sessions already counted for it."""
    if not created or raw:
        return
    total = DailyUsage.objects.filter(user_id=instance.user_id, mac=instance.mac).aggregate(n=Sum("sessions"))["n"]
    if total:
        Device.objects.filter(pk=instance.pk).update(session_count=total)
        instance.session_count = total
