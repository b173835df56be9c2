"""The disclosure date rule: the customer may see a disclosure from the day it was made,
not before. One rule, the model's clean() and a database CHECK, whoever writes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import VerifiedUserFactory
from compliance.models import Disclosure
from compliance.services import disclosure_change, disclosure_record

from .factories import DisclosureFactory, PrivacyOfficerFactory

pytestmark = pytest.mark.django_db

REFUSED = "The customer cannot see it before it was disclosed."


def _values(**overrides) -> dict:
    today = timezone.localdate()
    return {
        "customer": VerifiedUserFactory(),
        "data_disclosed": "Sessions of 3 March",
        "recipient": "Brigade de recherche, Paris",
        "authority_kind": Disclosure.AuthorityKind.POLICE,
        "legal_basis": "Article 60-1",
        "disclosed_on": today,
        "visible_from": today,
        **overrides,
    }


def test_the_model_refuses_a_visible_from_day_before_the_disclosure():
    today = timezone.localdate()
    disclosure = Disclosure(**_values(visible_from=today - timedelta(days=1)))
    with pytest.raises(ValidationError) as refused:
        disclosure.clean()
    assert refused.value.message_dict == {"visible_from": [REFUSED]}
    for visible_from in (None, today, today + timedelta(days=3)):
        Disclosure(**_values(visible_from=visible_from)).clean()


def test_recording_or_changing_it_is_refused_by_the_field_and_stores_nothing():
    officer = PrivacyOfficerFactory()
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        disclosure_record(staff=officer, **_values(visible_from=today - timedelta(days=1)))
    assert refused.value.message_dict == {"visible_from": [REFUSED]}
    assert not Disclosure.objects.exists()

    disclosure = DisclosureFactory(disclosed_on=today - timedelta(days=10), visible_from=None)
    with pytest.raises(ValidationError) as refused:
        disclosure_change(disclosure=disclosure, staff=officer, visible_from=today - timedelta(days=11))
    assert refused.value.message_dict == {"visible_from": [REFUSED]}
    disclosure.refresh_from_db()
    assert disclosure.visible_from is None
    assert disclosure_change(disclosure=disclosure, staff=officer, visible_from=today).visible_from == today


def test_the_database_refuses_it_whatever_writes():
    disclosure = DisclosureFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).update(visible_from=disclosure.disclosed_on - timedelta(days=1))
    Disclosure.objects.filter(pk=disclosure.pk).update(visible_from=None)
    Disclosure.objects.filter(pk=disclosure.pk).update(visible_from=disclosure.disclosed_on)


def test_the_admin_shows_the_refusal_by_the_field_when_the_day_is_changed(client):
    officer = PrivacyOfficerFactory()
    disclosure = DisclosureFactory(created_by=officer)
    client.force_login(officer)
    url = reverse("admin:compliance_disclosure_change", args=[disclosure.pk])
    response = client.post(url, {"visible_from": (disclosure.disclosed_on - timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"visible_from": [REFUSED]}
    disclosure.refresh_from_db()
    assert disclosure.visible_from >= disclosure.disclosed_on
