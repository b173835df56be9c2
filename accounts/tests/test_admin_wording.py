"""Small things staff see in the admin: one section per name, filter titles and labels
that read right, a data-request list that fits 1280 px, and the customer delete button
pointing to erasure rather than ending in a permission error."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.data_requests import data_request_file
from accounts.groups import SUPPORT
from accounts.models import ActivityEvent, User
from accounts.services import activity_record
from accounts.tests.factories import StaffUserFactory, SuperuserFactory, VerifiedUserFactory
from erasure.models import ErasureRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client):
    user = SuperuserFactory()
    client.force_login(user)
    return user


def test_our_customers_and_allauths_accounts_are_two_sections_with_two_names(client, superuser):
    index = client.get(reverse("admin:index")).content.decode()
    sections = re.findall(r'<a href="/admin/([a-z_]+)/" class="section"[^>]*>([^<]+)</a>', index)
    names = dict(sections)
    assert names["accounts"] == "Customers" and names["account"] == "Accounts"
    assert len({name for _app, name in sections}) == len(sections)


def test_no_filter_title_says_by_twice(client, superuser):
    activity_record(user=VerifiedUserFactory(), action="changed", category="profile", actor_kind="customer")
    listing = client.get(reverse("admin:accounts_activityevent_changelist")).content.decode()
    assert "By who acted" in listing
    assert not re.search(r"\bBy by\b", listing, re.I)


def test_the_extension_label_starts_with_a_capital(client):
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(staff)
    data_request = data_request_file(user=VerifiedUserFactory(), kind="information", message="What do you hold?")
    page = client.get(reverse("admin:accounts_datarequest_change", args=[data_request.pk])).content.decode()
    assert "Extend the due date to:" in page and "extend the due date to" not in page


def test_the_data_request_list_has_seven_columns_and_the_due_date_carries_the_flag(client, superuser):
    data_request_file(user=VerifiedUserFactory(), kind="information", message="What do you hold?")
    listing = client.get(reverse("admin:accounts_datarequest_changelist")).content.decode()
    header = re.search(r"<thead>(.*?)</thead>", listing, re.S).group(1)
    columns = re.findall(r'<th scope="col" class="[^"]*\b(column-[a-z_]+)\b', header)
    assert columns == [
        "column-reference",
        "column-user",
        "column-kind",
        "column-about",
        "column-status",
        "column-due",
        "column-assigned_to",
    ]


def test_the_customer_delete_button_points_to_erasure_and_deletes_nothing(client, superuser):
    customer = VerifiedUserFactory()
    response = client.get(reverse("admin:accounts_user_delete", args=[customer.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:accounts_user_change", args=[customer.pk])
    content = response.content.decode()
    assert "is not deleted here" in content and "Delete the account as the customer asked" in content
    assert f'href="{reverse("admin:accounts_user_changelist")}?id__exact={customer.pk}"' in content
    assert "permission" not in content.lower().split("messagelist")[1].split("</ul>")[0]
    assert client.post(reverse("admin:accounts_user_delete", args=[customer.pk]), {"post": "yes"}).status_code == 302
    assert User.objects.filter(pk=customer.pk).exists()
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert 'value="delete_selected"' not in listing and 'value="account_delete_as_asked"' in listing


def test_the_erasure_action_starts_the_customers_own_deletion_named_as_staff(
    client, superuser, django_capture_on_commit_callbacks
):
    customer = VerifiedUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "account_delete_as_asked", "_selected_action": [customer.pk]},
        )
    assert response.status_code == 302
    request = ErasureRequest.objects.get(user=customer)
    assert request.status == ErasureRequest.Status.PENDING
    customer.refresh_from_db()
    assert not customer.is_active
    event = ActivityEvent.objects.filter(user=customer, note="deletion").get()
    assert event.actor_kind == "staff" and event.actor == superuser


def test_support_has_no_erasure_action(client):
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(staff)
    VerifiedUserFactory()
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert 'value="account_delete_as_asked"' not in listing
