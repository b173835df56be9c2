"""The one way the portal sends email.

`email_queue` renders a message from templates in the recipient's language, as text
and HTML, stores it as an `OutboundEmail` row and hands it to a worker once the
surrounding transaction commits. Templates follow allauth's naming, so allauth's
messages go through the same path:

    <prefix>_subject.txt   one line
    <prefix>_message.txt   the text alternative
    <prefix>_message.html  the HTML alternative (optional: without it the text is
                           wrapped in templates/emails/layout.html)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def absolute_url(name: str, *args) -> str:
    """A full link to a named page, for emails (which are read outside the site)."""
    return settings.SITE_URL + reverse(name, args=args)


def email_render(*, template: str, context: dict, language: str | None = None) -> RenderedEmail:
    language = language or settings.LANGUAGE_CODE
    ctx = {
        "OPERATOR_NAME": settings.OPERATOR_NAME,
        "SITE_URL": settings.SITE_URL,
        "LANGUAGE_CODE": language,
        **context,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).splitlines()).strip()
        text = render_to_string(f"{template}_message.txt", ctx).strip()
        try:
            html = render_to_string(f"{template}_message.html", ctx).strip()
        except TemplateDoesNotExist:
            html = render_to_string("emails/layout.html", {**ctx, "subject": subject, "text": text}).strip()
    return RenderedEmail(subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", text=text, html=html)


def email_queue(
    *,
    to: str,
    template: str,
    context: dict | None = None,
    language: str | None = None,
    user=None,
    headers: dict | None = None,
    forget_recipient: bool = False,
) -> OutboundEmail:
    """Store the message and deliver it after the current transaction commits.
    With `forget_recipient`, the address is cleared from the row once the message
    is sent or given up (the final receipt of an erased account)."""
    if user is not None and language is None:
        language = getattr(user, "language", None)
    rendered = email_render(template=template, context={"user": user, **(context or {})}, language=language)
    email = OutboundEmail.objects.create(
        user=user if user is not None and user.pk else None,
        to=to,
        template=template,
        subject=rendered.subject[:500],
        body_text=rendered.text,
        body_html=rendered.html,
        headers=headers or {},
        next_attempt_at=timezone.now(),
        forget_recipient=forget_recipient,
    )
    from .tasks import email_deliver

    email_id = email.pk
    transaction.on_commit(lambda: email_deliver.delay(email_id))
    return email


def email_deliver_now(*, email_id: int) -> bool:
    """Send one pending email. Safe to call twice or at once: the row is locked
    while it is sent and a sent row is never sent again. Returns True if sent."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return False
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers=email.headers or None,
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        email.attempts += 1
        try:
            message.send()
        except (OSError, SMTPException) as exc:
            # The error class only: SMTP errors can echo the recipient back.
            email.last_error = type(exc).__name__
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
                if email.forget_recipient:
                    email.to = ""
                logger.error("email %s failed for good after %s attempts", email.pk, email.attempts)
            else:
                email.next_attempt_at = timezone.now() + timedelta(minutes=2**email.attempts)
                logger.warning("email %s not sent (%s), will retry", email.pk, email.last_error)
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "to"])
            return False
        email.status = OutboundEmail.Status.SENT
        email.sent_at = timezone.now()
        email.body_text = ""
        email.body_html = ""
        email.last_error = ""
        if email.forget_recipient:
            email.to = ""
        email.save(update_fields=["attempts", "status", "sent_at", "body_text", "body_html", "last_error", "to"])
        return True


def emails_due(*, limit: int = 1000) -> list[int]:
    """Ids of pending emails whose next attempt is due."""
    return list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
