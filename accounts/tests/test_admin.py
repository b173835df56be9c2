"""Staff in the admin: Support sees sensitive fields masked, Privacy officers in clear
once they gave a reason (test_staff_reveal.py), and every staff view of a customer's
record lands in the customer's activity."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.groups import PRIVACY_OFFICER, SUPPORT
from accounts.models import ActivityEvent, Profile
from accounts.services import profile_update
from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

IBAN = "FR1420041010050500013M02606"
ID_NUMBER = "18AB12345"


def _staff(group_name: str):
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=group_name))
    return staff


@pytest.fixture
def customer():
    user = VerifiedUserFactory()
    profile_update(
        user=user,
        actor=user,
        data={"full_name": "Ada Lovelace", "iban": IBAN, "id_number": ID_NUMBER, "id_document_type": "passport"},
    )
    return user


def test_groups_are_created_by_the_migration_with_their_permissions():
    support = Group.objects.get(name=SUPPORT)
    officer = Group.objects.get(name=PRIVACY_OFFICER)
    support_perms = {p.codename for p in support.permissions.all()}
    officer_perms = {p.codename for p in officer.permissions.all()}
    assert {"view_user", "view_profile", "view_datarequest", "change_datarequest"} <= support_perms
    assert "view_sensitive_profile" not in support_perms
    assert "change_profile" not in support_perms
    assert {"view_sensitive_profile", "change_profile", "change_statementversion"} <= officer_perms


@pytest.mark.parametrize("url_name", ["admin:accounts_user_change", "admin:accounts_profile_change"])
def test_support_sees_masked_fields_and_the_view_is_in_the_customers_activity(client, customer, url_name):
    support = _staff(SUPPORT)
    client.force_login(support)
    obj_id = customer.pk if url_name.endswith("user_change") else Profile.objects.get(user=customer).pk
    response = client.get(reverse(url_name, args=[obj_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "•••• 2606" in body and "•••• 2345" in body
    assert IBAN not in body and ID_NUMBER not in body
    view = ActivityEvent.objects.get(user=customer, action="viewed")
    assert view.actor == support and view.actor_kind == "staff"
    # The customer sees it too.
    client.force_login(customer)
    activity = client.get(reverse("me:activity")).content.decode()
    assert "activity-viewed" in activity


def test_support_profile_list_is_masked(client, customer):
    client.force_login(_staff(SUPPORT))
    body = client.get(reverse("admin:accounts_profile_changelist")).content.decode()
    assert "•••• 2606" in body and IBAN not in body


def test_support_cannot_change_a_profile(client, customer):
    client.force_login(_staff(SUPPORT))
    profile = Profile.objects.get(user=customer)
    response = client.post(reverse("admin:accounts_profile_change", args=[profile.pk]), {"full_name": "Mallory"})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.full_name == "Ada Lovelace"


def _reveal(client, profile) -> None:
    response = client.post(reverse("admin:accounts_profile_reveal", args=[profile.pk]), {"reason": "A correction"})
    assert response.status_code == 302


def test_privacy_officer_sees_values_in_clear_after_giving_a_reason(client, customer):
    officer = _staff(PRIVACY_OFFICER)
    client.force_login(officer)
    profile = Profile.objects.get(user=customer)
    _reveal(client, profile)
    body = client.get(reverse("admin:accounts_profile_change", args=[profile.pk])).content.decode()
    assert IBAN in body and ID_NUMBER in body
    body = client.get(reverse("admin:accounts_user_change", args=[customer.pk])).content.decode()
    assert IBAN in body
    # The reveal with its reason, then the two screens opened.
    assert ActivityEvent.objects.filter(user=customer, action="viewed", actor=officer).count() == 3


def test_privacy_officer_correction_goes_through_the_service(client, customer):
    officer = _staff(PRIVACY_OFFICER)
    client.force_login(officer)
    profile = Profile.objects.get(user=customer)
    _reveal(client, profile)
    data = {
        "full_name": "Ada King",
        "company": "",
        "street": "",
        "postal_code": "",
        "city": "",
        "country": "",
        "phone": "",
        "id_document_type": "passport",
        "id_number": ID_NUMBER,
        "iban": "not an iban",
    }
    response = client.post(reverse("admin:accounts_profile_change", args=[profile.pk]), data)
    assert response.status_code == 200 and "not a valid IBAN" in response.content.decode()
    profile.refresh_from_db()
    assert profile.full_name == "Ada Lovelace"

    data["iban"] = IBAN
    response = client.post(reverse("admin:accounts_profile_change", args=[profile.pk]), data)
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.full_name == "Ada King"
    change = ActivityEvent.objects.get(user=customer, action="changed", actor=officer)
    assert change.actor_kind == "staff" and change.fields == ["full_name"]


def test_the_admin_login_is_allauths(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_superuser_adds_an_account_and_a_duplicate_address_is_refused_clearly(client):
    from accounts.models import User
    from accounts.tests.factories import SuperuserFactory

    client.force_login(SuperuserFactory())
    url = reverse("admin:accounts_user_add")
    data = {"password1": "a-good-long-pass-1", "password2": "a-good-long-pass-1", "usable_password": "true"}
    response = client.post(url, {"email": "New.Agent@Example.com", **data})
    assert response.status_code == 302
    assert User.objects.filter(email="new.agent@example.com").exists()
    response = client.post(url, {"email": "NEW.AGENT@example.com", **data})
    assert response.status_code == 200
    assert "An account with this email address already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="new.agent@example.com").count() == 1


def test_a_staff_change_to_the_account_row_is_in_the_customers_activity(client, customer):
    from accounts.tests.factories import SuperuserFactory

    officer = SuperuserFactory()
    client.force_login(officer)
    url = reverse("admin:accounts_user_change", args=[customer.pk])
    data = {
        "email": customer.email,
        "language": "fr",
        "email_deletion_notices": "on",
        "is_active": "on",
        "date_joined_0": customer.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": customer.date_joined.strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": Profile.objects.get(user=customer).pk,
        "profile-0-user": customer.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = ActivityEvent.objects.get(user=customer, action="changed", actor=officer)
    assert event.category == "preferences" and event.fields == ["language"]
