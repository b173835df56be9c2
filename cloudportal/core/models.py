from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    """An email that must go out: a row until the mail server has accepted it.

    A broker or mail-server outage delays it and loses nothing. Once sent, the
    bodies are cleared (they can carry one-time links); subject, recipient and
    dates stay as a record that the message went out.

    Mass mailings (statement notices) are queued in bulk without their bodies: the
    row carries `context` and `language`, and the message is rendered when it is
    delivered (once per language and chunk). `dedup_key` makes a row unique per
    purpose, e.g. one notice per customer and statement version, so queuing twice
    stores nothing twice. A sender claims rows (`claim`, `claimed_until`) before it
    sends them, so two senders never hold the same row.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    class Priority(models.IntegerChoices):
        """Senders take every due transactional email before any bulk mail."""

        TRANSACTIONAL = 0, _("transactional")
        BULK = 1, _("bulk")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound_emails",
        verbose_name=_("customer"),
    )
    to = models.EmailField(_("to"))
    template = models.CharField(_("template"), max_length=200)
    subject = models.CharField(_("subject"), max_length=500)
    body_text = models.TextField(_("text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=100, null=True, blank=True, unique=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    context = models.JSONField(_("rendered at delivery from"), null=True, blank=True)
    claim = models.CharField(_("claimed by"), max_length=32, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    #: Clear the recipient once sent (or given up): a message to an erased account.
    forget_recipient = models.BooleanField(_("forget the recipient once sent"), default=False)
    #: Transactional (a verification, a reset, a receipt) or bulk (notices, announcements).
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.TRANSACTIONAL)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [
            # What a sender claims (see outbox.claim.emails_claim), for each priority in
            # turn: new rows by due time, and rows whose claim may have expired by expiry.
            # Claimed and sent rows leave the first, which stays as small as what is
            # still to send.
            models.Index(
                fields=["priority", "next_attempt_at"],
                name="email_due_idx",
                condition=models.Q(status="pending", claimed_until__isnull=True),
            ),
            models.Index(
                fields=["priority", "claimed_until"],
                name="email_claimed_idx",
                condition=models.Q(status="pending", claimed_until__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"
