"""Compliance factories: holds and disclosures made through the services, as the
admin makes them, so their audit trail and history entries are the real ones."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.groups import PRIVACY_OFFICER
from accounts.tests.factories import StaffUserFactory
from compliance.models import Disclosure, LegalHold
from compliance.services import disclosure_record, legal_hold_place


class PrivacyOfficerFactory(StaffUserFactory):
    email = factory.Sequence(lambda n: f"privacy{n}@staff.example.com")

    @factory.post_generation
    def privacy_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=PRIVACY_OFFICER))


class LegalHoldFactory(factory.django.DjangoModelFactory):
    """A hold on a MAC address over the last two years unless told otherwise."""

    class Meta:
        model = LegalHold

    scope = LegalHold.Scope.MAC
    mac = "00:1A:2B:00:00:01"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=730))
    ends_at = None
    authority = "Tribunal judiciaire de Paris"
    reference = factory.Sequence(lambda n: f"TJ-2026-{n:04d}")
    customer_may_be_told = False
    review_on = factory.LazyFunction(lambda: date.today() + timedelta(days=90))
    expires_at = None
    created_by = factory.SubFactory(PrivacyOfficerFactory)

    @classmethod
    def _create(cls, model_class, *args, created_by, **values) -> LegalHold:
        return legal_hold_place(staff=created_by, **values)


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    data_disclosed = "Sessions of 3 March 2026 (times, IP addresses, site)"
    recipient = "Brigade de recherche, Paris"
    authority_kind = Disclosure.AuthorityKind.POLICE
    legal_basis = "Requisition under article 60-1 of the code of criminal procedure"
    reference = factory.Sequence(lambda n: f"REQ-{n:05d}")
    disclosed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    visible_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=1))
    created_by = factory.SubFactory(PrivacyOfficerFactory)

    @classmethod
    def _create(cls, model_class, *args, created_by, **values) -> Disclosure:
        return disclosure_record(staff=created_by, **values)
