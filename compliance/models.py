"""Legal holds, their audit trail, lawful disclosures and the retention sweep's record."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        """Holds in force at `now`: not lifted, and not past their expiry."""
        now = now or timezone.now()
        return self.filter(released_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class LegalHold(models.Model):
    """An order to keep the sessions matching a scope past their retention.

    The scope is one account, one MAC address or one IP address, and a time range: a
    session is held when it matches the scope and was in progress at some moment of
    the range. An account's sessions are matched through the account's subscribers,
    also once the account is erased (see accesslogs/holds.py)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("an account")
        MAC = "mac", _("a MAC address")
        IP = "ip", _("an IP address")

    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
        help_text=_("For a hold on an account."),
    )
    #: The account's id, kept when the account is erased (the hold then shows it as
    #: "former account #id").
    account_ref = models.BigIntegerField(_("account number"), null=True, blank=True, editable=False)
    #: The account's subscribers (accesslogs.Subscriber: the account as its sessions
    #: record it), pinned when the hold is placed, by each sweep and before the
    #: account's sessions are detached: a detached subscriber keeps its id, so the
    #: hold keeps holding the former account's sessions after erasure.
    subscriber_ids = models.JSONField(_("subscribers held"), default=list, blank=True, editable=False)
    mac = models.CharField(_("MAC address"), max_length=17, blank=True, help_text=_("For a hold on a MAC address."))
    ip = models.GenericIPAddressField(
        _("IP address"), null=True, blank=True, help_text=_("For a hold on an IP address.")
    )
    starts_at = models.DateTimeField(_("from"), help_text=_("Sessions in progress from this moment are held."))
    ends_at = models.DateTimeField(
        _("to"), null=True, blank=True, help_text=_("Sessions in progress until this moment; empty for no end.")
    )
    authority = models.CharField(_("authority"), max_length=200)
    reference = models.CharField(_("reference"), max_length=200, help_text=_("The order's reference number."))
    customer_may_be_told = models.BooleanField(
        _("the customer may be told"),
        default=False,
        help_text=_("When unticked, nothing the customer sees reveals the hold while it lasts."),
    )
    review_on = models.DateField(_("review on"))
    expires_at = models.DateTimeField(
        _("expires"), null=True, blank=True, help_text=_("Empty: in force until it is lifted.")
    )
    created_at = models.DateTimeField(_("placed"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("placed by")
    )
    released_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    release_reason = models.CharField(_("reason for lifting"), max_length=300, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="compliance_hold_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope="account", account_ref__isnull=False)
                    | (Q(scope="mac") & ~Q(mac=""))
                    | Q(scope="ip", ip__isnull=False)
                ),
                name="compliance_hold_scope",
            ),
        ]
        indexes = [models.Index(fields=["released_at", "expires_at"], name="compliance_hold_active_idx")]

    def __str__(self) -> str:
        return f"{self.authority} — {self.reference}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.released_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def scope_value(self) -> str:
        if self.scope == self.Scope.ACCOUNT:
            return str(self.account or _("former account #%(id)s") % {"id": self.account_ref})
        return self.mac if self.scope == self.Scope.MAC else str(self.ip)


class LegalHoldEvent(models.Model):
    """The audit trail of a hold: every action on it, by whom and when (staff only)."""

    class Action(models.TextChoices):
        PLACED = "placed", _("placed")
        CHANGED = "changed", _("changed")
        LIFTED = "lifted", _("lifted")
        EXPIRED = "expired", _("expired")

    hold = models.ForeignKey(LegalHold, on_delete=models.CASCADE, related_name="events", verbose_name=_("legal hold"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    fields = models.JSONField(_("fields"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("legal hold event")
        verbose_name_plural = _("legal hold events")
        ordering = ["created_at", "id"]
        constraints = [
            # One "expired" entry per hold, however many sweeps notice it.
            models.UniqueConstraint(fields=["hold"], condition=Q(action="expired"), name="compliance_hold_expired_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.created_at:%Y-%m-%d}"


VISIBLE_BEFORE_DISCLOSED = _("The customer cannot see it before it was disclosed.")


class Disclosure(models.Model):
    """A lawful disclosure of a customer's data to an authority (SPEC §4)."""

    class AuthorityKind(models.TextChoices):
        POLICE = "police", _("Police")
        COURT = "court", _("Courts and prosecutors")
        TAX = "tax", _("Tax and customs")
        SECURITY = "security", _("National security")
        REGULATOR = "regulator", _("Regulators")
        OTHER = "other", _("Other authorities")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("customer"),
    )
    data_disclosed = models.TextField(_("what was disclosed"))
    recipient = models.CharField(_("disclosed to"), max_length=200)
    authority_kind = models.CharField(_("kind of authority"), max_length=20, choices=AuthorityKind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    disclosed_on = models.DateField(_("disclosed on"))
    visible_from = models.DateField(
        _("customer may see it from"),
        null=True,
        blank=True,
        help_text=_("The customer sees this entry from this day. Empty: not until a date is set."),
    )
    hold = models.ForeignKey(
        LegalHold,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("legal hold"),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_on", "-id"]
        indexes = [models.Index(fields=["customer", "visible_from"], name="compliance_disclosure_cust_idx")]
        constraints = [
            # The same rule as clean(), for whatever writes without it.
            models.CheckConstraint(
                condition=Q(visible_from__isnull=True) | Q(visible_from__gte=models.F("disclosed_on")),
                name="compliance_disclosure_visible_after",
                violation_error_message=VISIBLE_BEFORE_DISCLOSED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.disclosed_on:%Y-%m-%d}"

    def clean(self) -> None:
        """The customer may see a disclosure from the day it was made, not before."""
        if self.visible_from is not None and self.disclosed_on is not None and self.visible_from < self.disclosed_on:
            raise ValidationError({"visible_from": VISIBLE_BEFORE_DISCLOSED})


class SweepRun(models.Model):
    """One run of the retention sweep and what it erased, per registry category."""

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cutoff = models.DateTimeField(_("sessions erased when started before"))
    counts = models.JSONField(_("erased"), default=dict, blank=True)
    notices = models.PositiveIntegerField(_("customers notified"), default=0)

    class Meta:
        verbose_name = _("retention sweep")
        verbose_name_plural = _("retention sweeps")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"
