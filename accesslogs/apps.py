from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogsConfig(AppConfig):
    name = "accesslogs"
    verbose_name = _("Access logs")
