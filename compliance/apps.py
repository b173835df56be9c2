from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Legal holds and disclosures")

    def ready(self) -> None:
        from cloudportal.fragments import changes_with_time

        from .selectors import hold_expiry_next

        # A hold reaching its expiry changes what customers are shown, with no write.
        changes_with_time(hold_expiry_next)
