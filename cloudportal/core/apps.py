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
        from django.core.signals import request_finished, request_started

        from cloudportal import cache
        from cloudportal.fragments import EVERYONE_KEY, NEXT_CHANGE_KEY, models_watched
        from cloudportal.privacy import categories

        # Each request reads a key from the cache once; everyone's page token and the
        # moment of the next change come with its first read (cloudportal/cache.py).
        request_started.connect(cache.request_begun, dispatch_uid="cache.request_begun")
        request_finished.connect(cache.request_ended, dispatch_uid="cache.request_ended")
        cache.read_ahead(EVERYONE_KEY, NEXT_CHANGE_KEY)

        # What a customer's cached page parts show changes with every save and delete
        # of the registry's models (cloudportal/fragments.py).
        models_watched(label for category in categories() for label in category.models)
