"""A customer suspended by staff can still sign in, but only to export their data,
delete the account or sign out (SPEC §3); Support suspends and reinstates in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.groups import SUPPORT
from accounts.models import ActivityEvent, User
from accounts.services import account_suspend
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    return staff


@pytest.fixture
def suspended(client, support):
    customer = VerifiedUserFactory(language="en")
    assert account_suspend(user=customer, staff=support) is True
    response = client.post(reverse("account_login"), {"login": customer.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return customer


def test_a_suspended_customer_signs_in_and_sees_only_export_delete_and_sign_out(client, suspended):
    assert client.get("/").url == reverse("me:suspended")
    assert client.get(reverse("me:profile")).url == reverse("me:suspended")
    assert client.get("/devices/").url == reverse("me:suspended")
    page = client.get(reverse("me:suspended"))
    assert page.status_code == 200
    assert "Your account is suspended" in page.content.decode()
    assert reverse("me:export") in page.content.decode() and reverse("me:delete") in page.content.decode()
    # Export and delete are open; deleting asks for the password again, which is open too.
    assert "Export your data" in client.get(reverse("me:export")).content.decode()
    response = client.get(reverse("me:delete"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.get(response.url).status_code == 200
    # Anything else sent is refused, and nothing changes.
    response = client.post(reverse("me:profile_edit"), {"full_name": "Changed"})
    assert response.status_code == 403
    assert "Your account is suspended" in response.content.decode()
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("me:suspended")).status_code == 302  # signed out: to sign-in


def test_reinstated_customers_have_their_pages_back(client, suspended, support):
    assert account_suspend(user=suspended, staff=support) is False  # already
    assert account_suspend(user=suspended, staff=support, suspend=False) is True
    assert account_suspend(user=suspended, staff=support, suspend=False) is False
    assert client.get(reverse("me:profile")).status_code == 200
    assert client.get(reverse("me:suspended")).url == reverse("home")
    notes = list(ActivityEvent.objects.filter(user=suspended, actor=support).values_list("note", flat=True))
    assert sorted(notes) == ["reinstated", "suspended"]


def test_support_suspends_and_reinstates_from_the_customer_list(client, support):
    customer = VerifiedUserFactory()
    client.force_login(support)
    url = reverse("admin:accounts_user_changelist")
    response = client.post(url, {"action": "suspend", "_selected_action": [customer.pk, support.pk]})
    assert response.status_code == 302
    customer.refresh_from_db()
    support.refresh_from_db()
    assert customer.suspended_at is not None and support.suspended_at is None  # never oneself
    client.post(url, {"action": "reinstate", "_selected_action": [customer.pk]})
    assert User.objects.get(pk=customer.pk).suspended_at is None


def test_staff_without_the_permission_cannot_suspend(client):
    plain = StaffUserFactory()
    plain.user_permissions.add(*Group.objects.get(name=SUPPORT).permissions.exclude(codename="suspend_user"))
    customer = VerifiedUserFactory()
    client.force_login(plain)
    url = reverse("admin:accounts_user_changelist")
    page = client.get(url)
    assert page.status_code == 200 and 'value="suspend"' not in page.content.decode()
    client.post(url, {"action": "suspend", "_selected_action": [customer.pk]})
    assert User.objects.get(pk=customer.pk).suspended_at is None


def test_a_suspended_customer_who_owes_a_statement_acceptance_is_not_sent_round_in_circles(client, support):
    """The statement gate and the suspension both redirect: the suspended page, the
    export and the deletion stay reachable, and accepting the statement is possible."""
    from datetime import timedelta

    from django.utils import timezone

    from policies.tests.factories import PublishedVersionFactory

    version = PublishedVersionFactory(material=True, effective_at=timezone.now() - timedelta(days=1))
    customer = VerifiedUserFactory(language="en")
    account_suspend(user=customer, staff=support)
    client.force_login(customer)
    response = client.get("/", follow=True)
    assert response.status_code == 200 and len(response.redirect_chain) <= 2
    assert client.get(reverse("me:suspended")).status_code == 200
    assert "Export your data" in client.get(reverse("me:export")).content.decode()
    accept = client.get(reverse("privacy_accept"))
    assert accept.status_code == 200
    done = client.post(reverse("privacy_accept"), {"version": version.pk, "next": "/"})
    assert done.status_code == 302
    assert client.get("/").url == reverse("me:suspended")
