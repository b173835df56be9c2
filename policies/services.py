"""Writes about the privacy statement: publishing, notices, acceptance, announcements."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ActivityEvent
from accounts.services import activity_record, preferences_update
from cloudportal.broker import queue_on_commit
from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import email_queue, emails_queue_bulk

from .models import (
    Announcement,
    PublishedStatementError,
    StatementAcceptance,
    StatementVersion,
    statement_effective_errors,
)
from .selectors import statement_state_refresh

NOTICE_TEMPLATE = "emails/statement_changed"
ANNOUNCEMENT_TEMPLATE = "emails/announcement"
UNSUBSCRIBE_SALT = "policies.announcements.unsubscribe"


def customers_active() -> QuerySet:
    """Customers we write to: active accounts, not staff, with a verified address."""
    from allauth.account.models import EmailAddress

    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return get_user_model().objects.filter(is_active=True, is_staff=False).filter(Exists(verified))


# --- Publishing and notices -------------------------------------------------


def statement_publish(*, version: StatementVersion) -> StatementVersion:
    """Publish a draft: from now on it never changes. Every active customer is
    emailed once, after the commit, with what changed and the effective date."""
    with transaction.atomic():
        locked = StatementVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_published:
            raise PublishedStatementError()
        errors = statement_effective_errors(material=locked.material, effective_at=locked.effective_at)
        if errors:
            raise ValidationError({"effective_at": errors})
        if not locked.changelog.strip():
            raise ValidationError({"changelog": [_("Say what changed: it is what the notice email tells customers.")]})
        if missing := locked.texts_missing():
            raise ValidationError(
                _(
                    "Write the statement in English and in French before publishing: each customer reads and "
                    "accepts it in their language. Missing: %(fields)s."
                )
                % {"fields": "; ".join(missing)},
                code="language_missing",
            )
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at"])
        from . import tasks  # tasks.py imports this module

        version_id = locked.pk
        queue_on_commit(tasks.statement_notices_queue, version_id)
        transaction.on_commit(statement_state_refresh)
    return locked


def statement_notices_queue(*, version_id: int) -> int:
    """One notice per active customer for this version, in one statement. Running
    it again (a retried task, a second worker) stores nothing twice: each row's
    key is the version and the customer, under a unique constraint."""
    version = StatementVersion.objects.get(pk=version_id, published_at__isnull=False)
    return emails_queue_bulk(
        recipients=customers_active(),
        template=NOTICE_TEMPLATE,
        context={"loader": "policies.emails.statement_notice_context", "args": {"version_id": version.pk}},
        dedup_prefix=f"statement:{version.pk}:",
    )


def statements_switch_over() -> int | None:
    """Beat: make the version whose effective date has come the one in force for
    every process (the acceptance gate reads it from the cache)."""
    return statement_state_refresh().in_force_id


# --- Acceptance -------------------------------------------------------------


def statement_accept(
    *, user, version: StatementVersion, ip_address: str | None, user_agent: str, language: str | None = None
) -> StatementAcceptance:
    """Record that the customer accepted a published version (once per version), in
    the language they were shown it in (`language` is the page's: English for a
    version that has no French text)."""
    if not version.is_published:
        raise ValidationError(_("Only a published version can be accepted."))
    with transaction.atomic():
        acceptance, created = StatementAcceptance.objects.get_or_create(
            user=user,
            version=version,
            defaults={
                "ip_address": ip_address or None,
                "user_agent": (user_agent or "")[:300],
                "language": version.text_language(language or user.language),
            },
        )
        if created:
            activity_record(
                user=user,
                action=ActivityEvent.Action.CREATED,
                category="acceptances",
                actor_kind=ActivityEvent.Actor.CUSTOMER,
                actor=user,
                fields=["version", "accepted_at", "language", "ip_address", "user_agent"],
            )
    return acceptance


# --- Service-improvement announcements ---------------------------------------


def unsubscribe_token(*, user) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_user_for(*, token: str):
    """The customer a token was made for, or None for a token we did not sign."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


def announcements_unsubscribe(*, user) -> bool:
    """Turn service-improvement emails off; True if they were on."""
    if not user.email_service_improvement:
        return False
    preferences_update(user=user, actor=user, data={"email_service_improvement": False})
    return True


def announcement_send(*, announcement: Announcement) -> Announcement:
    """Mark the announcement sent and queue it, after the commit, to customers who
    opted in, each in their language: both languages must be written."""
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.sent_at is not None:
            return locked
        if missing := locked.texts_missing():
            raise ValidationError(
                _("Write the announcement in English and in French before sending it. Missing: %(fields)s.")
                % {"fields": "; ".join(missing)},
                code="language_missing",
            )
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])
        from . import tasks  # tasks.py imports this module

        announcement_id = locked.pk
        queue_on_commit(tasks.announcement_emails_queue, announcement_id)
    return locked


def announcement_emails_queue(*, announcement_id: int, batch: int = 500) -> int:
    """One email per opted-in customer, each with its own one-click unsubscribe
    link (RFC 8058); the dedup key keeps a rerun from writing to anyone twice."""
    from cloudportal.outbox import absolute_url

    announcement = Announcement.objects.get(pk=announcement_id)
    queued = 0
    recipients = customers_active().filter(email_service_improvement=True).order_by("pk")
    last_pk = 0
    while chunk := list(recipients.filter(pk__gt=last_pk)[:batch]):
        with transaction.atomic():
            for user in chunk:
                url = absolute_url("privacy_unsubscribe", unsubscribe_token(user=user))
                email_queue(
                    to=user.email,
                    user=user,
                    template=ANNOUNCEMENT_TEMPLATE,
                    context={"announcement": announcement, "unsubscribe_url": url},
                    headers={"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                    dedup_key=f"announcement:{announcement.pk}:{user.pk}",
                    priority=OutboundEmail.Priority.BULK,
                )
                queued += 1
        last_pk = chunk[-1].pk
    Announcement.objects.filter(pk=announcement.pk).update(recipients=queued)
    return queued
