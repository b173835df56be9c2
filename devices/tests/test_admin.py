"""Staff and devices in the admin: Support views, views are in the customer's history,
and removals by staff go through the service."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.groups import SUPPORT
from accounts.models import ActivityEvent
from accounts.tests.factories import StaffUserFactory, SuperuserFactory, VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from devices.models import Device

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:devices_device_changelist")


@pytest.fixture
def support(client):
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(staff)
    return staff


def test_support_sees_the_device_list_with_the_customers_email(client, support):
    device = DeviceFactory(mac="00:1A:2B:3C:4D:5E", label="Desktop")
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "00:1A:2B:3C:4D:5E" in body and "Desktop" in body and device.user.email in body


@pytest.mark.parametrize("term", ["00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E", "00:1a:2b:3c:4d:5e"])
def test_search_finds_a_mac_in_any_spelling(client, support, term):
    DeviceFactory(mac="00:1A:2B:3C:4D:5E", label="Wanted")
    DeviceFactory(mac="00:1A:2B:3C:4D:5F", label="Unwanted")
    body = client.get(CHANGELIST, {"q": term}).content.decode()
    assert "Wanted" in body and "Unwanted" not in body


def test_search_by_customer_email(client, support):
    DeviceFactory(user=VerifiedUserFactory(email="ada@example.com"), label="Ada's")
    DeviceFactory(label="Someone else's")
    body = client.get(CHANGELIST, {"q": "ada@example"}).content.decode()
    assert "Ada&#x27;s" in body and "Someone else" not in body


def test_filter_by_randomised_address(client, support):
    DeviceFactory(mac="02:00:00:00:00:01", label="Random")
    DeviceFactory(mac="00:1A:2B:3C:4D:5E", label="Burnt-in")
    randomised = client.get(CHANGELIST, {"randomised": "yes"}).content.decode()
    fixed = client.get(CHANGELIST, {"randomised": "no"}).content.decode()
    assert "Random" in randomised and "Burnt-in" not in randomised
    assert "Burnt-in" in fixed and "Random" not in fixed


def test_a_staff_view_of_a_device_is_in_the_customers_activity(client, support):
    device = DeviceFactory()
    response = client.get(reverse("admin:devices_device_change", args=[device.pk]))
    assert response.status_code == 200
    view = ActivityEvent.objects.get(user=device.user, action="viewed")
    assert (view.category, view.actor_kind, view.actor) == ("devices", "staff", support)


def test_support_cannot_change_or_delete_a_device(client, support):
    device = DeviceFactory(label="Laptop")
    assert client.post(reverse("admin:devices_device_change", args=[device.pk]), {"label": "X"}).status_code == 403
    assert client.post(reverse("admin:devices_device_delete", args=[device.pk]), {"post": "yes"}).status_code == 403
    response = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"})
    assert Device.objects.filter(pk=device.pk, label="Laptop").exists()
    assert response.status_code in (200, 302)
    assert not ActivityEvent.objects.filter(user=device.user).exclude(action="viewed").exists()


def test_a_superuser_removal_goes_through_the_service(client, django_capture_on_commit_callbacks):
    officer = SuperuserFactory()
    client.force_login(officer)
    device, other = DeviceFactory(label="Laptop"), DeviceFactory(label="Phone")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:devices_device_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"})
    assert response.status_code == 302
    assert not Device.objects.exists()
    for removed in (device, other):
        event = ActivityEvent.objects.get(user=removed.user, action="deleted")
        assert (event.category, event.actor_kind, event.actor) == ("devices", "staff", officer)
        assert OutboundEmail.objects.filter(user=removed.user, template="emails/deletion_notice").count() == 1


def test_a_superuser_relabel_goes_through_the_service(client):
    officer = SuperuserFactory()
    client.force_login(officer)
    device = DeviceFactory(label="Laptop")
    response = client.post(reverse("admin:devices_device_change", args=[device.pk]), {"label": "Work laptop"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.label == "Work laptop"
    event = ActivityEvent.objects.get(user=device.user, action="changed")
    assert (event.category, event.fields, event.actor) == ("devices", ["label"], officer)
