from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthoritiesConfig(AppConfig):
    name = "authorities"
    verbose_name = _("Authority requests")

    def ready(self) -> None:
        # Lower floors offer hooks; this app fills them: staff may name an authority
        # request as the reason for revealing a customer's data (accounts), and the
        # transparency report counts decided requests (compliance).
        from . import hooks

        hooks.connect()
