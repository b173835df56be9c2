"""What the customer is told the retention sweep erased (SPEC §3 Deletion, §6).

Each customer whose sessions went gets one notice per sweep, an activity entry and,
unless they turned deletion notices off, an email: "N sessions older than 12 months
were erased". N is the number of their sessions that left what they are shown (see
`shown`) since the sweep before, counted without reading the erased rows, from the
daily usage rollup (per customer, MAC address and local day):

- A day wholly past the cutoff: its sessions, less those already announced, less
  those a hold the customer may be told of keeps (still on /logs/, as held; the day's
  rollup row then keeps their sums, and they are announced when they go).
- The day the cutoff falls on (part of it past, part not): the sessions the sweep
  erased of it, which it counts as it deletes them (`DailyUsage.erased`, see
  `sweep`), and those a secret hold keeps past the cutoff, which the customer would
  have seen go without the hold (found among the few sessions left before the cutoff
  on that day).

A secret hold thus changes no notice: what it keeps is announced the day it would
have been erased, and not again when it is. Each day's announced count is kept on
its row (`DailyUsage.announced`), so a second sweep tells nothing twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Greatest, TruncDate
from django.utils import timezone, translation
from django.utils.translation import ngettext

from accounts.models import ActivityEvent, User
from accounts.services import activity_record, deletion_notice_send
from cloudportal.outbox import absolute_url
from devices.models import Device

from .holds import HeldScope, held_scopes_noticeable, sessions_held_q
from .models import DailyUsage, NetworkSession
from .rollup import device_counts_expire


def boundary_day(cutoff: datetime) -> tuple[date, datetime]:
    """The local day the cutoff falls on, and its first moment."""
    zone = timezone.get_default_timezone()
    day = timezone.localdate(cutoff, timezone=zone)
    return day, timezone.make_aware(datetime.combine(day, time.min), zone)


def _keys_q(keys) -> Q:
    q = Q(pk__in=[])
    for user_id, mac, *day in keys:
        q |= Q(user_id=user_id, mac=mac, **({"day": day[0]} if day else {}))
    return q


def _held_usage(noticeable: list[HeldScope], *, before: datetime) -> dict[tuple, tuple[int, int, int, int]]:
    """Sums per (customer, MAC, local day) of the sessions started before `before`
    that holds the customer may be told of keep: few, as holds are."""
    if not noticeable:
        return {}
    rows = (
        NetworkSession.objects.filter(
            sessions_held_q(scopes=noticeable), started_at__lt=before, subscriber__user__isnull=False
        )
        .annotate(day=TruncDate("started_at", tzinfo=timezone.get_default_timezone()))
        .values("subscriber__user_id", "mac", "day")
        .annotate(n=Count("id"), span=Sum(F("ended_at") - F("started_at")), i=Sum("bytes_in"), o=Sum("bytes_out"))
        .order_by()
    )
    return {
        (r["subscriber__user_id"], r["mac"], r["day"]): (r["n"], int(r["span"].total_seconds()), r["i"], r["o"])
        for r in rows
    }


def _past_days_expire(day: date, noticeable: list[HeldScope], midnight: datetime, told: Counter) -> int:
    """Days wholly past the cutoff: announce what is left of them and is not held
    where the customer sees it; keep rows only for the sums of what is. Returns the
    rows deleted."""
    held = _held_usage(noticeable, before=midnight)
    past = DailyUsage.objects.filter(day__lt=day)
    gone = past.exclude(_keys_q(held)) if held else past
    left = Greatest(F("sessions") - F("announced"), Value(0))
    for user_id, n in gone.order_by().values("user_id").annotate(n=Sum(left)).values_list("user_id", "n"):
        told[user_id] += n or 0
    device_counts_expire(expired=gone)
    deleted, _by_model = gone.delete()
    rows = {(r.user_id, r.mac, r.day): r for r in past.filter(_keys_q(held))} if held else {}
    for (user_id, mac, held_day), (n, seconds, bytes_in, bytes_out) in held.items():
        row = rows.get((user_id, mac, held_day))
        if row and (row.sessions, row.seconds, row.bytes_in, row.bytes_out, row.erased, row.announced) == (
            n,
            seconds,
            bytes_in,
            bytes_out,
            0,
            0,
        ):
            continue  # as the last sweep left it
        before = row.sessions if row else 0
        told[user_id] += max(0, before - (row.announced if row else 0) - n)
        DailyUsage.objects.update_or_create(
            user_id=user_id,
            mac=mac,
            day=held_day,
            defaults={
                "sessions": n,
                "seconds": seconds,
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "erased": 0,
                "announced": 0,
            },
        )
        if before != n:
            devices = Device.objects.filter(user_id=user_id, mac=mac)
            devices.update(session_count=Greatest(F("session_count") - (before - n), 0))
    return deleted


def _boundary_day_announce(
    day: date, noticeable: list[HeldScope], midnight: datetime, cutoff: datetime, told: Counter
) -> None:
    """The day the cutoff falls on: announce what the sweep erased of it, and what a
    secret hold keeps of it past the cutoff, less what was announced already."""
    secretly_kept = (
        NetworkSession.objects.filter(started_at__gte=midnight, started_at__lt=cutoff, subscriber__user__isnull=False)
        .exclude(sessions_held_q(scopes=noticeable))
        .values("subscriber__user_id", "mac")
        .annotate(n=Count("id"))
        .order_by()
    )
    hidden = {(r["subscriber__user_id"], r["mac"]): r["n"] for r in secretly_kept}
    on_day = DailyUsage.objects.filter(day=day)
    plain = on_day.filter(erased__gt=F("announced"))
    if hidden:
        plain = plain.exclude(_keys_q(hidden))
    for user_id, n in (
        plain.order_by().values("user_id").annotate(n=Sum(F("erased") - F("announced"))).values_list("user_id", "n")
    ):
        told[user_id] += n
    plain.update(announced=F("erased"))
    for (user_id, mac), n in hidden.items():
        row = on_day.filter(user_id=user_id, mac=mac).first()
        if row is not None and row.erased + n > row.announced:
            told[user_id] += row.erased + n - row.announced
            on_day.filter(pk=row.pk).update(announced=row.erased + n)


@transaction.atomic
def daily_usage_expire(*, cutoff: datetime, now: datetime | None = None) -> dict[str, int]:
    """After the sweep erased what started before `cutoff`: tell each customer how
    many of their sessions went (see the module's docstring), and delete the daily
    usage of the days wholly past, but for the sums of what holds the customer may be
    told of keep."""
    day, midnight = boundary_day(cutoff)
    noticeable = held_scopes_noticeable(now=now)
    told: Counter[int] = Counter()
    deleted = _past_days_expire(day, noticeable, midnight, told)
    _boundary_day_announce(day, noticeable, midnight, cutoff, told)
    users = User.objects.in_bulk([pk for pk, n in told.items() if n > 0])
    months = settings.ACCESS_LOG_RETENTION_MONTHS
    for user in users.values():
        sessions_erased_notice(user=user, count=told[user.pk], months=months)
    return {"daily usage rows deleted": deleted, "customers notified": len(users)}


def sessions_erased_notice(*, user: User, count: int, months: int) -> None:
    """The batched notice: "N sessions older than 12 months were erased"."""
    with translation.override(user.language):
        note = ngettext(
            "%(count)s session older than %(months)s months",
            "%(count)s sessions older than %(months)s months",
            count,
        ) % {"count": count, "months": months}
    activity_record(
        user=user,
        action=ActivityEvent.Action.DELETED,
        category="access_logs",
        actor_kind=ActivityEvent.Actor.JOB,
        note=note,
    )
    deletion_notice_send(
        user=user,
        category="access_logs",
        template="emails/sessions_erased",
        context={"count": count, "months": months, "url": absolute_url("logs:list")},
    )
