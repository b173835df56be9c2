"""The Devices page: list, add, rename, remove; another customer's device is a 404."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accesslogs.models import DailyUsage
from accounts.models import ActivityEvent
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from cloudportal.fragments import customer_changed
from devices.models import Device

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db

LIST = reverse("devices:list")
RANDOMISED_NOTE = "This address is randomised: the device may use a different one on other networks"


@pytest.fixture
def customer(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def reauthenticated(client, customer):
    """The customer has just typed their password again, as allauth asks."""
    from accounts.tests.factories import DEFAULT_PASSWORD

    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return customer


def test_device_pages_need_sign_in(client):
    device = DeviceFactory()
    for url in (LIST, reverse("devices:edit", args=[device.pk]), reverse("devices:remove", args=[device.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_mac_label_dates_sessions_and_the_randomised_note(client, customer):
    seen = datetime.datetime(2026, 3, 4, 10, 30, tzinfo=datetime.UTC)
    fixed = DeviceFactory(user=customer, mac="00:1A:2B:3C:4D:5E", label="Desktop", last_seen_at=seen, session_count=9)
    DeviceFactory(user=customer, mac="02:00:00:00:00:01", label="Phone")
    DeviceFactory(label="Someone else's tablet")

    body = client.get(LIST).content.decode()
    assert "00:1A:2B:3C:4D:5E" in body and "Desktop" in body
    assert "02:00:00:00:00:01" in body and "Phone" in body
    assert f'<td class="num" data-sessions="{fixed.pk}" data-label="Sessions">9</td>' in body
    assert body.count(RANDOMISED_NOTE) == 1  # only 02:…, not 00:1A:…
    assert "2026" in body  # last seen
    assert "Someone else" not in body
    for heading in ("MAC address", "Label", "Added", "Last seen", "Sessions"):
        assert '<th scope="col"' in body and f">{heading}</th>" in body


def test_adding_a_device_stores_it_canonically_with_a_message(client, customer):
    response = client.post(LIST, {"mac": "00-1a-2b-3c-4d-5e", "label": "Desktop"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    device = Device.objects.get(user=customer)
    assert device.mac == "00:1A:2B:3C:4D:5E" and device.label == "Desktop"
    body = response.content.decode()
    assert "The device 00:1A:2B:3C:4D:5E has been added." in body
    assert RANDOMISED_NOTE not in body
    assert ActivityEvent.objects.get(user=customer).action == "created"


def test_adding_a_randomised_address_warns_about_it(client, customer):
    response = client.post(LIST, {"mac": "AA-BB-CC-DD-EE-01", "label": ""}, follow=True)
    assert Device.objects.get(user=customer).mac == "AA:BB:CC:DD:EE:01"
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages[0] == ("success", "The device AA:BB:CC:DD:EE:01 has been added.")
    assert messages[1][0] == "warning" and messages[1][1].startswith(RANDOMISED_NOTE)
    assert 'class="message message-warning"' in response.content.decode()


@pytest.mark.parametrize(
    ("mac", "message"),
    [
        ("ff:ff:ff:ff:ff:ff", "This is the broadcast address, which does not belong to any device."),
        ("01:00:5e:00:00:01", "This is a multicast (group) address, which does not belong to one device."),
        ("00:00:00:00:00:00", "The all-zero address does not belong to any device."),
        ("zz", "is not a MAC address"),
        ("", "This field is required."),
        ("a" * 41, "This is too long to be a MAC address"),
    ],
)
def test_a_bad_mac_is_a_400_with_the_message_and_nothing_stored(client, customer, mac, message):
    response = client.post(LIST, {"mac": mac, "label": "Thing"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Nothing was saved" in body
    assert not Device.objects.exists()
    assert not ActivityEvent.objects.exists()


def test_adding_your_own_device_twice_says_so(client, customer):
    DeviceFactory(user=customer, mac="00:1A:2B:3C:4D:5E")
    response = client.post(LIST, {"mac": "001a2b3c4d5e"})
    assert response.status_code == 400
    assert "You have already added this device." in response.content.decode()
    assert Device.objects.filter(user=customer).count() == 1


def test_a_mac_held_by_another_account_is_refused_without_revealing_anything(client, customer):
    holders = [
        VerifiedUserFactory(email="victoria.secret@example.org"),
        VerifiedUserFactory(email="bob@example.net", is_active=False),
    ]
    answers = []
    for n, holder in enumerate(holders):
        mac = f"00:1A:2B:00:00:0{n + 1}"
        DeviceFactory(
            user=holder,
            mac=mac,
            label="Victoria's tablet",
            last_seen_at=datetime.datetime(2019, 7, 14, tzinfo=datetime.UTC),
        )
        response = client.post(LIST, {"mac": mac.lower().replace(":", "-")})
        assert response.status_code == 400
        body = response.content.decode()
        assert (
            "This MAC address cannot be added to your account. If the device is yours, contact us through Requests."
            in body
        )
        # Random CSRF tokens may spell anything: they are left out of the search.
        visible = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
        for secret in (holder.email, "victoria", "Victoria", "tablet", "bob", "2019"):
            assert secret not in visible
        # The page is the same whoever holds the address, apart from the typed value and the CSRF token.
        answers.append(body.replace(mac.lower().replace(":", "-"), "MAC").split('name="csrfmiddlewaretoken"')[0])
    assert answers[0] == answers[1]
    assert not Device.objects.filter(user=customer).exists()


def test_rename(client, customer):
    device = DeviceFactory(user=customer, label="Laptop")
    url = reverse("devices:edit", args=[device.pk])
    assert 'value="Laptop"' in client.get(url).content.decode()
    response = client.post(url, {"label": "Work laptop"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert f"The device {device.mac} has been renamed." in response.content.decode()
    device.refresh_from_db()
    assert device.label == "Work laptop"
    assert ActivityEvent.objects.get(user=customer).fields == ["label"]


def test_a_too_long_label_is_a_400(client, customer):
    device = DeviceFactory(user=customer, label="Laptop")
    response = client.post(reverse("devices:edit", args=[device.pk]), {"label": "x" * 61})
    assert response.status_code == 400
    assert "at most 60 characters" in response.content.decode()
    device.refresh_from_db()
    assert device.label == "Laptop"


def test_removal_asks_for_the_password_first(client, customer):
    device = DeviceFactory(user=customer)
    url = reverse("devices:remove", args=[device.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauthenticate/")
        assert Device.objects.filter(pk=device.pk).exists()
    assert not ActivityEvent.objects.filter(user=customer).exists()


def test_removal_after_reauthentication_confirms_then_removes_and_announces(
    client, reauthenticated, django_capture_on_commit_callbacks, mailoutbox
):
    customer = reauthenticated
    device = DeviceFactory(user=customer, mac="00:1A:2B:3C:4D:5E", label="Old phone")
    url = reverse("devices:remove", args=[device.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Remove this device?" in page.content.decode() and "00:1A:2B:3C:4D:5E" in page.content.decode()
    assert Device.objects.filter(pk=device.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "The device 00:1A:2B:3C:4D:5E has been removed." in response.content.decode()
    assert not Device.objects.filter(pk=device.pk).exists()
    event = ActivityEvent.objects.get(user=customer, action="deleted")
    assert event.category == "devices" and event.actor_kind == "customer"
    notice = OutboundEmail.objects.get(user=customer, template="emails/deletion_notice")
    assert notice.status == "sent"
    [message] = mailoutbox
    assert message.to == [customer.email] and "Old phone (00:1A:2B:3C:4D:5E)" in message.body


def test_another_customers_device_is_a_404_on_every_device_url(client, reauthenticated):
    device = DeviceFactory(label="Theirs")
    for name in ("devices:edit", "devices:remove"):
        url = reverse(name, args=[device.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"label": "Mine now"}).status_code == 404
    device.refresh_from_db()
    assert device.label == "Theirs"
    assert not ActivityEvent.objects.exists()


def test_another_customers_device_is_a_404_before_any_reauthentication(client, customer):
    device = DeviceFactory()
    url = reverse("devices:remove", args=[device.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()


def test_the_list_page_costs_the_same_queries_for_one_device_and_for_ten(client, customer):
    def queries_for_page() -> int:
        customer_changed(customer.pk)  # the usage charts are built again, not read from the cache
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    first = DeviceFactory(user=customer)
    DailyUsage.objects.create(user=customer, mac=first.mac, day=datetime.date(2026, 3, 1), sessions=1)
    queries_for_page()  # the first request of a session also records the sign-in session
    one = queries_for_page()
    for _ in range(9):
        device = DeviceFactory(user=customer)
        DailyUsage.objects.create(user=customer, mac=device.mac, day=datetime.date(2026, 3, 1), sessions=2)
    assert queries_for_page() == one
