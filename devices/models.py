from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    """A customer's device, known by its MAC address. A MAC address belongs to one
    account at most; sessions are attributed through it when they are recorded."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices", verbose_name=_("customer")
    )
    #: Canonical form, see devices.mac.mac_parse.
    mac = models.CharField(_("MAC address"), max_length=17, unique=True)
    label = models.CharField(_("label"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    #: The sessions recorded for this customer with this MAC address and still kept:
    #: kept current by the access logs' usage rollup and retention sweep, beside
    #: `last_seen_at` (accesslogs/rollup.py).
    session_count = models.PositiveIntegerField(_("sessions"), default=0, editable=False)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.mac})" if self.label else self.mac

    @property
    def is_randomised(self) -> bool:
        from .mac import Mac

        return Mac(self.mac).is_randomised
