from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogsConfig(AppConfig):
    name = "accesslogs"
    verbose_name = _("Access logs")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from devices.models import Device

        from .rollup import device_count_start

        post_save.connect(device_count_start, sender=Device, dispatch_uid="accesslogs.device_count_start")
