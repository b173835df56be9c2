from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The top floor: composes the other apps (dashboard, the /me/ pages' URLs, demo
    data, the registry-wide retention sweep). No app imports it."""

    name = "portal"
    verbose_name = _("Portal")
