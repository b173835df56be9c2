"""The access logs' category in the privacy registry."""

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count as CountOf
from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from cloudportal.dates import day_shown, moment_shown
from cloudportal.privacy import (
    EU_DATABASE,
    HOSTING,
    Category,
    Count,
    ErasureResult,
    HeldPart,
    Scalar,
    lazy_text,
    noun,
    register,
)
from compliance.models import LegalHold

from .holds import held_scopes_noticeable, holds_keeping_sessions, legal_holds_pin, sessions_held_q
from .models import DailyUsage, NetworkSession
from .retention import erase_on
from .selectors import SESSION_EXPORT_COLUMNS, sessions_export_query, sessions_for, subscribers_of
from .services import subscribers_detach
from .shown import erasure_shown, erasure_text
from .sweep import access_logs_expire


def _kept_reason() -> Promise:
    months = settings.ACCESS_LOG_RETENTION_MONTHS
    return lazy_text(
        lambda: (
            ngettext(
                "kept without your name or email, as the law requires, "
                "until %(months)s month after each session started",
                "kept without your name or email, as the law requires, "
                "until %(months)s months after each session started",
                months,
            )
            % {"months": months}
        )
    )


def _access_logs_counts(user: User) -> list[Count]:
    """From the daily rollup: a few hundred rows, however many sessions."""
    days = DailyUsage.objects.filter(user=user).values("user")
    return [
        Count(noun("session", "sessions"), Scalar(days.annotate(n=Sum("sessions")).values("n"))),
        Count(noun("device seen", "devices seen"), Scalar(days.annotate(n=CountOf("mac", distinct=True)).values("n"))),
    ]


def _access_logs_sample(user: User) -> list[str]:
    """The newest three sessions, each with what /logs/ says of its erasure."""
    noticeable = held_scopes_noticeable()
    lines = []
    for s in sessions_for(user=user, noticeable=noticeable)[:3]:
        erased = erasure_shown(s, noticeable)
        fate = _("Held (legal hold)") if erased is None else _("Erased on %(day)s") % {"day": day_shown(erased)}
        lines.append(f"{moment_shown(s.started_at)} · {s.site.name} · {s.ip} · {fate}")
    return lines


def _access_logs_export(user: User) -> Iterator[dict]:
    """One dict a session, as they are read (the embedded portal's export; PostgreSQL
    streams `sessions_export_query` instead)."""
    noticeable = held_scopes_noticeable()
    return (
        {
            "started": s.started_at.isoformat(),
            "ended": s.ended_at.isoformat(),
            "email_as_recorded": s.subscriber.email,
            "mac": s.mac,
            "ip": s.ip,
            "site": s.site.name,
            "site_address": s.site.address,
            "bytes_in": s.bytes_in,
            "bytes_out": s.bytes_out,
            "erased_on": erasure_text(s, noticeable),
        }
        for s in sessions_for(user=user, noticeable=noticeable)
        .select_related("subscriber")
        .order_by("started_at", "id")
        .iterator(chunk_size=2000)
    )


def _access_logs_held(user: User) -> tuple[HeldPart, ...]:
    """The customer's sessions each legal hold in force keeps, for the deletion page
    and the receipt: only holds the customer may be told of (a secret hold stays
    secret), with the date the hold expires. Nothing is read when no such hold is in
    force."""
    scopes = held_scopes_noticeable()
    subscribers = subscribers_of(user=user) if scopes else []
    if not subscribers:
        return ()
    expiry = dict(LegalHold.objects.filter(pk__in={s.hold_id for s in scopes}).values_list("pk", "expires_at"))
    sessions = NetworkSession.objects.filter(subscriber_id__in=subscribers)
    parts = []
    for scope in scopes:
        count = sessions.filter(sessions_held_q(scopes=[scope])).count()
        if count:
            parts.append(HeldPart(label=noun("session", "sessions"), count=count, until=expiry[scope.hold_id]))
    return tuple(parts)


def _access_logs_erase(user: User) -> ErasureResult:
    """The law makes us keep sessions for their retention period: they are detached
    from the account (no customer, no email) and erased by the retention sweep.
    Detaching clears the account's few subscriber rows, not its sessions, so it takes
    the same time for a million sessions as for one. The daily sums exist only for
    the customer's pages and go now; they also give the count of sessions kept."""
    newest = sessions_for(user=user).values_list("started_at", flat=True).first()
    kept = DailyUsage.objects.filter(user=user).aggregate(sessions=Sum("sessions"))["sessions"] or 0
    legal_holds_pin(user_id=user.pk)  # holds on the account keep its sessions once detached
    held = _access_logs_held(user)
    subscribers_detach(user=user)
    deleted, _by_model = DailyUsage.objects.filter(user=user).delete()
    return ErasureResult(
        deleted={noun("day of usage", "days of usage"): deleted},
        kept={noun("session", "sessions"): kept},
        kept_reason=_kept_reason(),
        kept_until=erase_on(newest) if newest else None,
        held=held,
    )


register(
    Category(
        key="access_logs",
        label=_("Access logs"),
        description=_(
            "A record of each session of your devices on our network: when, where, from which address "
            "and how much data. Sessions are linked to you only from the moment you add a device."
        ),
        fields=(
            _("your account's email address as recorded"),
            _("device MAC address"),
            _("IP address"),
            _("site (name and address)"),
            _("session start and end"),
            _("bytes in and out"),
        ),
        purpose=_(
            "To answer lawful requests from the authorities and keep our network secure; and to show you your "
            "own sessions."
        ),
        legal_basis=_("Legal obligation to retain connection data"),
        retention=lazy_text(
            lambda: (
                ngettext(
                    "%(months)s month from the session start, then erased; longer only under a legal hold.",
                    "%(months)s months from the session start, then erased; longer only under a legal hold.",
                    settings.ACCESS_LOG_RETENTION_MONTHS,
                )
                % {"months": settings.ACCESS_LOG_RETENTION_MONTHS}
            )
        ),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_(
            "Sessions are records of what happened and cannot be corrected; ask us through Requests if one looks wrong."
        ),
        correct_url="me:requests",
        models=("accesslogs.NetworkSession", "accesslogs.Subscriber", "accesslogs.DailyUsage"),
        columns=SESSION_EXPORT_COLUMNS,
        counts=_access_logs_counts,
        sample=_access_logs_sample,
        export=_access_logs_export,
        export_bulk=lambda user: sessions_export_query(user=user),
        erase=_access_logs_erase,
        expire=access_logs_expire,
        holds_keeping=holds_keeping_sessions,
        held=_access_logs_held,
        order=50,
    )
)
