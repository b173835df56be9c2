"""Accounts factories, shared by every app's tests.

A customer who can sign in needs a verified primary address (verification is
mandatory), so `VerifiedUserFactory` is the one most tests want; staff and
superusers are verified too.
"""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    """A customer whose address is not verified yet (cannot sign in)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.LazyFunction(lambda: make_password(DEFAULT_PASSWORD))
    language = "en"


class VerifiedUserFactory(UserFactory):
    """A customer with a verified primary address: can sign in."""

    email_address = factory.RelatedFactory(
        "accounts.tests.factories.EmailAddressFactory",
        factory_related_name="user",
        email=factory.SelfAttribute("..email"),
    )


class EmailAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAddress

    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True


class StaffUserFactory(VerifiedUserFactory):
    email = factory.Sequence(lambda n: f"agent{n}@staff.example.com")
    is_staff = True


class SuperuserFactory(StaffUserFactory):
    email = factory.Sequence(lambda n: f"officer{n}@staff.example.com")
    is_superuser = True
