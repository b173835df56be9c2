from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cloudportal.core"
    label = "core"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # Every app declares its personal data in <app>/privacy.py.
        autodiscover_modules("privacy")
        from cloudportal.fragments import models_watched
        from cloudportal.privacy import categories

        # What a customer's cached page parts show changes with every save and delete
        # of the registry's models (cloudportal/fragments.py).
        models_watched(label for category in categories() for label in category.models)
