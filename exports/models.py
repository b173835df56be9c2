from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataExport(models.Model):
    """A customer's request for a copy of their data, and the ZIP file a worker
    builds from the privacy registry. One is queued or building at a time per
    customer; the file can be downloaded by its owner until `expires_at`, then the
    beat job deletes it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        BUILDING = "building", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    #: Statuses of an export that is not finished yet: one such export per customer.
    IN_PROGRESS = (Status.QUEUED, Status.BUILDING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True)
    categories_done = models.PositiveSmallIntegerField(_("categories done"), default=0)
    categories_total = models.PositiveSmallIntegerField(_("categories"), default=0)
    records = models.PositiveBigIntegerField(_("records written"), default=0)
    #: The file's name inside EXPORT_ROOT (random, so it cannot be guessed).
    file_name = models.CharField(_("file"), max_length=100, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["queued", "building"]),
                name="exports_one_in_progress_per_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="exports_ready_expiry_idx", condition=models.Q(status="ready")),
        ]

    def __str__(self) -> str:
        return str(_("Export #%(id)s") % {"id": self.pk})

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        if not self.categories_total:
            return 0
        return min(99, round(100 * self.categories_done / self.categories_total))

    def is_downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > now
