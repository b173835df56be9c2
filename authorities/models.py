"""Requests from authorities for access-log data, their lookups, the sessions each
lookup matched, the audit trail and the signed disclosure package.

A request goes received → lookup → awaiting approval → approved / refused /
challenged → disclosed → closed (authorities/services.py moves it; nothing else
does). The sessions a lookup matched are copied as they were recorded (the account
and its email then, never the current holder of the MAC or IP address), so that
what a second officer approves is exactly what is disclosed, whatever the sweep
does meanwhile; the copies go when the request is closed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.models import Disclosure, LegalHold
from exports.models import DataExport


class AuthorityRequest(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        LOOKUP = "lookup", _("lookups under way")
        AWAITING = "awaiting", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        CHALLENGED = "challenged", _("challenged")
        DISCLOSED = "disclosed", _("disclosed")
        CLOSED = "closed", _("closed")

    class Decision(models.TextChoices):
        APPROVED = "approved", _("approve: disclose what the lookups matched")
        REFUSED = "refused", _("refuse: disclose nothing")
        CHALLENGED = "challenged", _("challenge: keep the data, disclose nothing while the request is contested")

    #: Statuses in which lookups may still be added.
    PREPARING = (Status.RECEIVED, Status.LOOKUP)
    #: What staff set (the rest is the workflow's); after a decision only the last four change.
    STAFF_FIELDS = (
        "authority",
        "authority_kind",
        "reference",
        "legal_basis",
        "received_on",
        "due_on",
        "officer",
        "notes",
        "notice_from",
    )
    AFTER_DECISION_FIELDS = ("due_on", "officer", "notes", "notice_from")

    authority = models.CharField(_("authority"), max_length=200, help_text=_("Who sent the request."))
    authority_kind = models.CharField(_("kind of authority"), max_length=20, choices=Disclosure.AuthorityKind.choices)
    reference = models.CharField(_("reference"), max_length=200, help_text=_("The authority's own reference."))
    legal_basis = models.CharField(_("legal basis cited"), max_length=300)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("officer in charge")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    notes = models.TextField(_("notes"), blank=True)
    notice_from = models.DateField(
        _("customers may be told from"),
        null=True,
        blank=True,
        help_text=_(
            "The day from which the customers concerned see the disclosure on their page. "
            "Empty: not until an officer sets a day."
        ),
    )
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    holds = models.ManyToManyField(LegalHold, blank=True, related_name="+", verbose_name=_("legal holds"))
    disclosures = models.ManyToManyField(Disclosure, blank=True, related_name="+", verbose_name=_("disclosures"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("authority request")
        verbose_name_plural = _("authority requests")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=F("received_on")), name="authorities_due_after_received"),
            # Four eyes, for whatever writes without the service: who opened a request never decides it.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("created_by")), name="authorities_four_eyes"
            ),
        ]
        indexes = [models.Index(fields=["decided_at"], name="authorities_decided_idx")]

    def __str__(self) -> str:
        return f"{self.authority} — {self.reference}"

    def clean(self) -> None:
        if self.received_on and self.due_on and self.due_on < self.received_on:
            raise ValidationError({"due_on": _("The due date cannot come before the day the request was received.")})

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)


class RequestEvent(models.Model):
    """The request's audit trail: every action on it, by whom and when. Rows are
    only ever added (the model refuses changes; on PostgreSQL a trigger too)."""

    class Action(models.TextChoices):
        OPENED = "opened", _("opened")
        CHANGED = "changed", _("changed")
        LOOKUP = "lookup", _("lookup run")
        SUBMITTED = "submitted", _("sent for approval")
        RETURNED = "returned", _("sent back to lookups")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        CHALLENGED = "challenged", _("challenged")
        VIEWED = "viewed", _("unmasked results viewed")
        PACKAGE = "package", _("package built")
        DOWNLOADED = "downloaded", _("package downloaded")
        NOTICE = "notice", _("notice day set")
        CLOSED = "closed", _("closed")

    request = models.ForeignKey(
        AuthorityRequest, on_delete=models.PROTECT, related_name="events", verbose_name=_("authority request")
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("authority request event")
        verbose_name_plural = _("audit trail")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("the audit trail is append-only")


class Lookup(models.Model):
    """One search of the sessions for a request: an IP address at an instant or in a
    window, a MAC address or an account (its email as sessions recorded it) in a
    date range. A session matches when it was in progress at some moment of the
    window, the rule legal holds use, so the hold placed on approval keeps exactly
    what matched."""

    class Kind(models.TextChoices):
        IP = "ip", _("IP address")
        MAC = "mac", _("MAC address")
        ACCOUNT = "account", _("account (email as recorded)")

    request = models.ForeignKey(
        AuthorityRequest, on_delete=models.PROTECT, related_name="lookups", verbose_name=_("authority request")
    )
    kind = models.CharField(_("lookup by"), max_length=10, choices=Kind.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    mac = models.CharField(_("MAC address"), max_length=17, blank=True)
    email = models.CharField(_("account email"), max_length=254, blank=True)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    sessions = models.PositiveIntegerField(_("sessions matched"), default=0)
    accounts = models.PositiveIntegerField(_("accounts concerned"), default=0)
    created_at = models.DateTimeField(_("run"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("run by")
    )

    class Meta:
        verbose_name = _("lookup")
        verbose_name_plural = _("lookups")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="authorities_lookup_window"),
            models.CheckConstraint(
                condition=Q(kind="ip", ip__isnull=False) | (Q(kind="mac") & ~Q(mac="")) | Q(kind="account"),
                name="authorities_lookup_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def value(self) -> str:
        if self.kind == self.Kind.IP:
            return str(self.ip)
        return self.mac if self.kind == self.Kind.MAC else self.email

    @property
    def is_instant(self) -> bool:
        return self.starts_at == self.ends_at


class LookupMatch(models.Model):
    """A session a lookup matched, copied as it was recorded: the account it was
    attributed to then (who held the MAC address when the session was recorded)
    and that account's email then."""

    lookup = models.ForeignKey(Lookup, on_delete=models.CASCADE, related_name="matches", verbose_name=_("lookup"))
    session_pk = models.BigIntegerField(_("session number"))
    session_id = models.CharField(_("session id"), max_length=64)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    mac = models.CharField(_("MAC address"), max_length=17)
    ip = models.GenericIPAddressField(_("IP address"))
    site = models.CharField(_("site"), max_length=200)
    site_address = models.CharField(_("site address"), max_length=300, blank=True)
    bytes_in = models.PositiveBigIntegerField(_("bytes in"))
    bytes_out = models.PositiveBigIntegerField(_("bytes out"))
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
        verbose_name=_("account as recorded"),
    )
    #: The account's number, kept when the account is erased.
    account_ref = models.BigIntegerField(_("account number"), null=True, blank=True)
    #: accesslogs.Subscriber: the account as the session recorded it (kept once detached).
    subscriber_ref = models.BigIntegerField(_("subscriber number"), null=True, blank=True)
    email = models.CharField(_("account email as recorded"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("matched session")
        verbose_name_plural = _("matched sessions")
        ordering = ["started_at", "session_pk"]
        indexes = [
            models.Index(fields=["lookup", "started_at", "session_pk"], name="authorities_match_lookup"),
            models.Index(fields=["account_ref"], name="authorities_match_account"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.started_at:%Y-%m-%d %H:%M})"


class DisclosurePackage(models.Model):
    """The ZIP file handed to the authority, built by a worker after approval,
    signed, downloadable by Privacy officers until it expires (as exports do)."""

    #: The data export's statuses: a package goes through the same ones.
    Status = DataExport.Status
    IN_PROGRESS = DataExport.IN_PROGRESS

    request = models.ForeignKey(
        AuthorityRequest, on_delete=models.PROTECT, related_name="packages", verbose_name=_("authority request")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True)
    #: The file's name inside the packages' directory (random: it cannot be guessed).
    file_name = models.CharField(_("file"), max_length=100, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    signature = models.CharField(_("HMAC-SHA256 signature"), max_length=64, blank=True)
    downloads = models.PositiveIntegerField(_("downloads"), default=0)

    class Meta:
        verbose_name = _("disclosure package")
        verbose_name_plural = _("disclosure packages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=["queued", "building"]),
                name="authorities_one_package_in_progress",
            )
        ]

    def __str__(self) -> str:
        return str(_("Package #%(id)s") % {"id": self.pk})

    def is_downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > now
