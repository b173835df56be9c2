"""The one rule for which pages a gate lets through.

Two middlewares stop a signed-in customer on the way to a page: the statement gate
(policies: a material version to accept first) and the suspension gate (accounts: a
customer suspended by staff). Each lets some pages through, named here by their URL
names; both run in `process_view`, where the URL is already resolved, so neither
matches paths by hand. A URL that does not resolve is a 404 and reaches no gate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import ResolverMatch

#: The privacy statement's pages, and the transparency report beside them.
STATEMENT_PAGES = frozenset(
    {
        "privacy",
        "privacy_versions",
        "privacy_version",
        "privacy_diff",
        "privacy_processors",
        "privacy_cookies",
        "privacy_accept",
        "privacy_unsubscribe",
        "transparency",
    }
)

#: What a customer can always do, whatever stops them: take their data away, delete
#: the account (and read the page saying they are suspended), sign out, confirm
#: their password for those, switch the language; and the health check.
WAYS_OUT = frozenset(
    {
        "me:export",
        "me:export_status",
        "me:export_download",
        "me:delete",
        "me:delete_requested",
        "me:delete_cancel",
        "me:suspended",
        "account_logout",
        "account_reauthenticate",
        "set_language",
        "healthz",
    }
)


@dataclass(frozen=True)
class Gate:
    """The pages a gate lets through: URL names (`namespace:name`), and whole URL
    namespaces (the admin, the ingest API)."""

    views: frozenset[str]
    namespaces: frozenset[str] = frozenset()

    @classmethod
    def letting_through(cls, *views: Iterable[str], namespaces: Iterable[str] = ()) -> Gate:
        return cls(views=frozenset().union(*views), namespaces=frozenset(namespaces))

    def lets_through(self, match: ResolverMatch | None) -> bool:
        if match is None:
            return True
        return match.view_name in self.views or any(ns in self.namespaces for ns in match.namespaces)
