from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ErasureRequest(models.Model):
    """A customer asked to delete their account. The account is locked at once;
    erasure runs once `erase_after` has passed unless the customer cancels first.
    Erasing the account deletes this row with it: the ledger is what remains."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the end of the grace period")
        CANCELLED = "cancelled", _("cancelled by the customer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="erasure_requests", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("asked"))
    erase_after = models.DateTimeField(_("erase after"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    #: Whether the account could sign in before it was locked, to restore on cancel.
    was_active = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("account deletion request")
        verbose_name_plural = _("account deletion requests")
        ordering = ["erase_after", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="erasure_one_pending_per_customer"
            ),
        ]
        indexes = [
            models.Index(fields=["erase_after"], name="erasure_pending_due_idx", condition=models.Q(status="pending"))
        ]

    def __str__(self) -> str:
        return str(_("Deletion of customer #%(id)s") % {"id": self.user_id})


class ErasureLedgerEntry(models.Model):
    """One account erased: no personal data, only the account's id, a keyed hash
    (HMAC-SHA256 with ERASURE_LEDGER_KEY) of its email address, and when. After a
    backup is restored, `erasure_ledger_apply` erases again every account the
    ledger names that the backup brought back. The same lines are appended to
    ERASURE_LEDGER_PATH, outside the database, since a restore rolls the table back."""

    account_id = models.BigIntegerField(_("account id"), db_index=True)
    email_hash = models.CharField(_("keyed hash of the email address"), max_length=64)
    erased_at = models.DateTimeField(_("erased"))
    #: Records deleted or detached, per category key: counts only.
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure ledger entry")
        verbose_name_plural = _("erasure ledger")
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return str(_("Account #%(id)s erased") % {"id": self.account_id})
