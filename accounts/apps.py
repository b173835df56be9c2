from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_groups(sender, **kwargs) -> None:
    from .groups import groups_sync

    groups_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's `account` app is "Accounts" in the admin too: ours holds the customers.
    verbose_name = _("Customers")

    def ready(self) -> None:
        # The staff groups and their permissions are made after every migrate (and
        # after a flush), from accounts/groups.py, as Django does for permissions.
        post_migrate.connect(_sync_groups, sender=self, dispatch_uid="accounts.sync_groups")
        from . import signals  # noqa: F401 - connects allauth's signals to the activity history
