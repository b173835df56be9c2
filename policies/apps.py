from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Privacy statements")

    def ready(self) -> None:
        from cloudportal.cache import read_ahead
        from cloudportal.process_copies import copied

        from .selectors import STATE_CACHE_KEY

        # The statement gate reads the state on every page: it comes with the
        # request's first cache read (cloudportal/cache.py), or from the process's
        # copy (cloudportal/process_copies.py).
        read_ahead(STATE_CACHE_KEY)
        copied(STATE_CACHE_KEY)
