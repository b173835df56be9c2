from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BilingualText(models.Model):
    """Texts written in English (`field`) and in French (`field_fr`), read in the
    reader's language. `TRANSLATED` names the fields that have a French twin."""

    TRANSLATED: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def in_language(self, field: str, language: str | None) -> str:
        """A text in the reader's language, English when no French was written."""
        return (self.has_french() and _is_french(language) and getattr(self, f"{field}_fr")) or getattr(self, field)

    def text_language(self, language: str | None) -> str:
        """The language the reader is shown the texts in: theirs, or English for a
        row published before the French texts were required."""
        return "fr" if _is_french(language) and self.has_french() else "en"

    def has_french(self) -> bool:
        return all(getattr(self, f"{field}_fr").strip() for field in self.TRANSLATED)

    def texts_missing(self) -> list[str]:
        """The labels of the texts still to be written, in either language."""
        names = [name for field in self.TRANSLATED for name in (field, f"{field}_fr")]
        return [str(self._meta.get_field(name).verbose_name) for name in names if not getattr(self, name).strip()]


def _is_french(language: str | None) -> bool:
    return (language or "").split("-")[0] == "fr"


def texts_common_language(*objects: BilingualText, language: str | None) -> str:
    """The language in which all of them can be read by this reader: theirs, or
    English if one of them has no French text (two versions are compared in one
    language)."""
    return "fr" if all(obj.text_language(language) == "fr" for obj in objects) else "en"


class PublishedStatementError(ValidationError):
    """A published statement version was about to change: published versions never do."""

    def __init__(self) -> None:
        super().__init__(_("A published version cannot be changed."), code="published")


class StatementVersion(BilingualText):
    """One version of the privacy statement, in English and in French. Published
    versions never change: the model refuses to save or delete them, and a database
    trigger (migration 0003, restored for SQLite by 0005) refuses any UPDATE or DELETE
    of a published row, whatever issues it.

    Publishing requires every text in both languages. Versions published before the
    French texts existed (migration 0005) keep them empty and are shown in English,
    with a note, to French readers."""

    TRANSLATED = ("title", "body", "changelog")

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_fr = models.CharField(_("title in French"), max_length=200, blank=True, default="")
    body = models.TextField(_("statement (Markdown)"))
    body_fr = models.TextField(_("statement in French (Markdown)"), blank=True, default="")
    changelog = models.TextField(
        _("what changed"), blank=True, help_text=_("Sent to every customer when the version is published.")
    )
    changelog_fr = models.TextField(
        _("what changed in French"),
        blank=True,
        default="",
        help_text=_("Sent to the customers who read the portal in French."),
    )
    material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("Customers must accept a material change from its effective date, and are told in advance."),
    )
    effective_at = models.DateTimeField(_("takes effect"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("statement version")
        verbose_name_plural = _("statement versions")
        ordering = ["-effective_at"]
        permissions = [("publish_statementversion", _("Can publish a statement version"))]

    def __str__(self) -> str:
        return self.version

    def save(self, *args, **kwargs) -> None:
        if self._stored_published():
            raise PublishedStatementError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_published():
            raise PublishedStatementError()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self._stored_published():
            raise PublishedStatementError()
        if self.effective_at:
            errors = statement_effective_errors(material=self.material, effective_at=self.effective_at)
            if errors:
                raise ValidationError({"effective_at": errors})

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def _stored_published(self) -> bool:
        return bool(self.pk) and StatementVersion.objects.filter(pk=self.pk, published_at__isnull=False).exists()


def statement_effective_errors(*, material: bool, effective_at, now=None) -> list[str]:
    """What is wrong with an effective date: never in the past; a material change at
    least POLICY_NOTICE_DAYS ahead, so customers are told in time."""
    now = now or timezone.now()
    # A minute of leeway for a form filled in with "now".
    if effective_at < now - timezone.timedelta(minutes=1):
        return [str(_("The effective date cannot be in the past."))]
    days = settings.POLICY_NOTICE_DAYS
    if material and effective_at < now + timezone.timedelta(days=days):
        return [
            str(
                _("A material change takes effect at least %(days)d days after it is published, on %(date)s or later.")
                % {"days": days, "date": timezone.localdate(now + timezone.timedelta(days=days)).isoformat()}
            )
        ]
    return []


class StatementAcceptance(models.Model):
    """A customer accepted a statement version: when, from which address and browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="statement_acceptances",
        verbose_name=_("customer"),
    )
    version = models.ForeignKey(
        StatementVersion, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("version")
    )
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    language = models.CharField(
        _("language of the text accepted"),
        max_length=8,
        blank=True,
        default="",
        help_text=_(
            "Empty for acceptances recorded before the statement was written in French (they were in English)."
        ),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("statement acceptance")
        verbose_name_plural = _("statement acceptances")
        ordering = ["-accepted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="acceptance_once_per_version")]

    def __str__(self) -> str:
        return str(_("Version %(version)s accepted") % {"version": self.version_id})


class Processor(BilingualText):
    """A company that handles customers' data on the operator's behalf, listed on
    /privacy/processors/ (the statement links there)."""

    TRANSLATED = ("service", "data")

    name = models.CharField(_("name"), max_length=200)
    service = models.CharField(_("what they do for us"), max_length=300)
    service_fr = models.CharField(_("what they do for us, in French"), max_length=300, blank=True)
    data = models.CharField(_("data they handle"), max_length=300)
    data_fr = models.CharField(_("data they handle, in French"), max_length=300, blank=True)
    location = models.CharField(_("where"), max_length=200)
    website = models.URLField(_("website"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("processor")
        verbose_name_plural = _("processors")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def has_french(self) -> bool:
        # Each French text stands alone: one written is shown, even if the other is not.
        return True


class Announcement(BilingualText):
    """A service-improvement announcement, emailed only to customers who opted in, in
    their language. Sending requires the subject and message in English and French;
    those sent before (migration 0005) are English only."""

    TRANSLATED = ("subject", "body")

    subject = models.CharField(_("subject"), max_length=200)
    subject_fr = models.CharField(_("subject in French"), max_length=200, blank=True, default="")
    body = models.TextField(_("message (Markdown)"))
    body_fr = models.TextField(_("message in French (Markdown)"), blank=True, default="")
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    recipients = models.PositiveIntegerField(_("recipients"), default=0, editable=False)

    class Meta:
        verbose_name = _("service-improvement announcement")
        verbose_name_plural = _("service-improvement announcements")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject
