"""The authentication backends: Django's and allauth's, with the signed-in user of
each request read from the cache instead of the database.

Every signed-in request loads its user (`get_user`): one query, about a quarter of
what a kept page costs. The user is kept like a page's parts
(`cloudportal.fragments.kept`): the entry holds the customer's token and everyone's
as they were when it was read, and counts only while they are current, so that any
change of the user replaces it at once (every save of a user, a signed-in person's
every write, a staff member's every write, the erasure and a suspension: see
cloudportal/fragments.py), and it expires after USER_KEPT_SECONDS whatever happens.
The checks Django makes on the user it gets are unchanged: `is_active`, and the
session's hash of the password (a password changed elsewhere signs the session
out).
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from cloudportal.cache import OWNER
from cloudportal.fragments import customer_token_key, kept, kept_key

#: A kept user is read again from the database after this, at the latest.
USER_KEPT_SECONDS = 300


def kept_user_keys() -> list[str]:
    """The cache keys `get_user` reads for a customer, OWNER in the place of their id:
    their token and the kept user (accounts/middleware.py reads them with the
    session)."""
    return [customer_token_key(OWNER), kept_key("user", user_id=OWNER, parts=())]


class _KeptUser:
    def get_user(self, user_id):
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        users = get_user_model()._default_manager
        user = kept("user", user_id=pk, parts=(), build=lambda: users.filter(pk=pk).first(), timeout=USER_KEPT_SECONDS)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_KeptUser, DjangoModelBackend):
    """Django's backend (staff sign in to the admin with it)."""


class AuthenticationBackend(_KeptUser, AllauthBackend):
    """allauth's backend (customers sign in with their email address, or a passkey)."""
