from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogsConfig(AppConfig):
    name = "accesslogs"
    verbose_name = _("Access logs")

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save, pre_delete

        from devices.models import Device

        from .holds import holds_pin_before_delete
        from .rollup import device_count_start

        post_save.connect(device_count_start, sender=Device, dispatch_uid="accesslogs.device_count_start")
        pre_delete.connect(
            holds_pin_before_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accesslogs.holds_pin_before_delete"
        )
