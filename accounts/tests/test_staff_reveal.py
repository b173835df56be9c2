"""Staff access with a reason (SPEC §4): a Privacy officer sees a customer's ID number
and IBAN masked until they give a reason, in words or as a link to a data request;
the customer's activity history then says "viewed by staff" with that reason."""

import pytest
from django.urls import reverse

from accounts.data_requests import data_request_file
from accounts.groups import PRIVACY_OFFICER, SUPPORT
from accounts.models import ActivityEvent, Profile
from accounts.services import profile_update
from accounts.tests.factories import VerifiedUserFactory
from accounts.tests.test_admin import IBAN, ID_NUMBER, _staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    user = VerifiedUserFactory()
    profile_update(user=user, actor=user, data={"full_name": "Ada Lovelace", "iban": IBAN, "id_number": ID_NUMBER})
    return user


def _reveal_url(customer) -> str:
    return reverse("admin:accounts_profile_reveal", args=[Profile.objects.get(user=customer).pk])


def test_a_privacy_officer_sees_masked_values_until_giving_a_reason(client, customer):
    officer = _staff(PRIVACY_OFFICER)
    client.force_login(officer)
    profile = Profile.objects.get(user=customer)
    for url in (
        reverse("admin:accounts_profile_change", args=[profile.pk]),
        reverse("admin:accounts_user_change", args=[customer.pk]),
    ):
        body = client.get(url).content.decode()
        assert "•••• 2606" in body and IBAN not in body and ID_NUMBER not in body
        assert _reveal_url(customer) in body

    # No reason: refused with a message, nothing shown, nothing recorded as a reveal.
    response = client.post(_reveal_url(customer), {"reason": "  "})
    assert response.status_code == 400
    assert "Say why you need to see this" in response.content.decode()
    assert not ActivityEvent.objects.filter(user=customer, note__contains="fraud").exists()

    response = client.post(_reveal_url(customer), {"reason": "Checking a suspected fraud on the direct debit"})
    assert response.status_code == 302
    body = client.get(reverse("admin:accounts_profile_change", args=[profile.pk])).content.decode()
    assert IBAN in body and ID_NUMBER in body
    reveal = ActivityEvent.objects.get(user=customer, action="viewed", note__contains="fraud")
    assert reveal.actor == officer and set(reveal.fields) == {"id_number", "iban"}

    # The customer reads it in their history: viewed by staff, and why.
    client.force_login(customer)
    activity = client.get(reverse("me:activity")).content.decode()
    assert "Checking a suspected fraud on the direct debit" in activity


def test_a_reason_may_be_a_data_request_of_that_customer_and_no_other(client, customer):
    officer = _staff(PRIVACY_OFFICER)
    client.force_login(officer)
    theirs = data_request_file(user=customer, kind="correction", message="My IBAN is wrong")
    someone_elses = data_request_file(user=VerifiedUserFactory(), kind="correction", message="Mine too")

    response = client.post(
        _reveal_url(customer), {"reason": "", "reference_kind": "data_request", "reference_number": someone_elses.pk}
    )
    assert response.status_code == 400 and "no such record for this customer" in response.content.decode()
    response = client.post(
        _reveal_url(customer), {"reason": "", "reference_kind": "data_request", "reference_number": theirs.pk}
    )
    assert response.status_code == 302
    assert ActivityEvent.objects.filter(user=customer, note=f"Data request #{theirs.pk}").exists()


def test_support_cannot_reveal(client, customer):
    client.force_login(_staff(SUPPORT))
    assert client.get(_reveal_url(customer)).status_code == 403
    assert client.post(_reveal_url(customer), {"reason": "curious"}).status_code == 403
