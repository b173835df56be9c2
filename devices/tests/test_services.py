"""Adding, renaming and removing devices, whoever does it: checks, history, email."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import ActivityEvent
from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory
from cloudportal import privacy
from cloudportal.core.models import OutboundEmail
from devices import services
from devices.models import Device
from devices.selectors import devices_for
from devices.services import device_add, device_remove, device_rename

from .factories import DeviceFactory

pytestmark = pytest.mark.django_db

NEUTRAL = "This MAC address cannot be added to your account. If the device is yours, contact us through Requests."


def _mac_error(caught) -> str:
    return " ".join(caught.value.message_dict["mac"])


def test_add_stores_the_canonical_form_and_records_field_names_only():
    user = VerifiedUserFactory()
    device = device_add(user=user, mac="aabb.ccdd.ee02", label="  Ada's   phone ")
    assert device.mac == "AA:BB:CC:DD:EE:02" and device.label == "Ada's phone"
    event = ActivityEvent.objects.get(user=user)
    assert (event.action, event.category, event.actor_kind) == ("created", "devices", "customer")
    assert event.fields == ["mac", "label"]
    assert "AA:BB" not in event.note and "phone" not in event.note


def test_adding_a_device_twice_is_refused_as_a_duplicate():
    user = VerifiedUserFactory()
    device_add(user=user, mac="00:1A:2B:3C:4D:5E")
    with pytest.raises(ValidationError) as caught:
        device_add(user=user, mac="001a.2b3c.4d5e")
    assert _mac_error(caught) == "You have already added this device."
    assert Device.objects.filter(user=user).count() == 1


def test_a_mac_held_by_another_account_gets_the_same_neutral_answer_whoever_holds_it():
    answers = set()
    for holder in (VerifiedUserFactory(email="alice@example.com"), StaffUserFactory()):
        DeviceFactory(user=holder, mac=f"00:1A:2B:3C:4D:{holder.pk % 256:02X}")
        newcomer = VerifiedUserFactory()
        with pytest.raises(ValidationError) as caught:
            device_add(user=newcomer, mac=f"00-1a-2b-3c-4d-{holder.pk % 256:02x}")
        answers.add(_mac_error(caught))
        assert not Device.objects.filter(user=newcomer).exists()
        assert not ActivityEvent.objects.filter(user=newcomer).exists()
    assert answers == {NEUTRAL}


def test_a_race_lost_to_the_unique_constraint_gets_the_same_neutral_answer(monkeypatch):
    """Another request adds the MAC between the check and the insert: the check saw
    nothing, the constraint refuses, the answer is the same and the transaction lives on."""
    holder, newcomer = VerifiedUserFactory(), VerifiedUserFactory()
    DeviceFactory(user=holder, mac="00:1A:2B:3C:4D:5E")
    real_refusal = services._refusal
    calls = []

    def refusal_that_misses_the_first_time(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real_refusal(**kwargs)

    monkeypatch.setattr(services, "_refusal", refusal_that_misses_the_first_time)
    with pytest.raises(ValidationError) as caught:
        device_add(user=newcomer, mac="00:1a:2b:3c:4d:5e")
    assert len(calls) == 2
    assert _mac_error(caught) == NEUTRAL
    # The savepoint was rolled back, not the test's transaction: the database answers.
    assert Device.objects.get(mac="00:1A:2B:3C:4D:5E").user == holder
    assert not ActivityEvent.objects.filter(user=newcomer).exists()


def test_an_address_that_is_not_one_device_is_refused_by_the_service_too():
    user = VerifiedUserFactory()
    with pytest.raises(ValidationError) as caught:
        device_add(user=user, mac="01:00:5e:00:00:01")
    assert "multicast" in _mac_error(caught)
    assert not Device.objects.exists()


def test_rename_records_a_change_and_clearing_the_label_is_an_announced_deletion():
    user = VerifiedUserFactory()
    device = DeviceFactory(user=user, label="Laptop")
    device_rename(device=device, label="Work laptop", actor=user)
    assert Device.objects.get(pk=device.pk).label == "Work laptop"
    change = ActivityEvent.objects.get(user=user, action="changed")
    assert change.fields == ["label"] and change.actor_kind == "customer"
    assert not OutboundEmail.objects.filter(user=user).exists()

    device_rename(device=device, label="", actor=user)
    assert ActivityEvent.objects.get(user=user, action="deleted").fields == ["label"]
    notice = OutboundEmail.objects.get(user=user, template="emails/deletion_notice")
    assert device.mac in notice.body_text


def test_renaming_to_the_same_label_records_nothing():
    user = VerifiedUserFactory()
    device = DeviceFactory(user=user, label="Laptop")
    device_rename(device=device, label=" Laptop ", actor=user)
    assert not ActivityEvent.objects.filter(user=user).exists()


def test_remove_is_recorded_and_announced_once(django_capture_on_commit_callbacks, mailoutbox):
    user = VerifiedUserFactory()
    device = DeviceFactory(user=user, mac="00:1A:2B:3C:4D:5E", label="Old phone")
    with django_capture_on_commit_callbacks(execute=True):
        device_remove(device=device, actor=user)
    assert not Device.objects.filter(pk=device.pk).exists()
    event = ActivityEvent.objects.get(user=user, action="deleted")
    assert (event.category, event.actor_kind, event.fields) == ("devices", "customer", ["mac", "label"])
    [message] = mailoutbox
    assert message.to == [user.email]
    assert "Devices" in message.body and "Old phone (00:1A:2B:3C:4D:5E)" in message.body

    # A second click finds nothing to remove and says nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        device_remove(device=device, actor=user)
    assert ActivityEvent.objects.filter(user=user, action="deleted").count() == 1
    assert len(mailoutbox) == 1


def test_no_removal_email_when_the_customer_turned_deletion_notices_off(django_capture_on_commit_callbacks, mailoutbox):
    user = VerifiedUserFactory(email_deletion_notices=False)
    device = DeviceFactory(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        device_remove(device=device, actor=user)
    assert ActivityEvent.objects.filter(user=user, action="deleted", category="devices").exists()
    assert mailoutbox == []
    assert not OutboundEmail.objects.filter(user=user).exists()


def test_staff_changes_are_recorded_as_staff():
    user, staff = VerifiedUserFactory(), StaffUserFactory()
    device = DeviceFactory(user=user, label="Laptop")
    device_rename(device=device, label="Laptop (work)", actor=staff)
    device_remove(device=device, actor=staff)
    events = ActivityEvent.objects.filter(user=user).order_by("id")
    assert [(e.action, e.actor_kind, e.actor) for e in events] == [
        ("changed", "staff", staff),
        ("deleted", "staff", staff),
    ]


def test_devices_for_lists_this_customers_devices_with_their_counts_only():
    user, other = VerifiedUserFactory(), VerifiedUserFactory()
    counted = DeviceFactory(user=user, session_count=12)
    idle = DeviceFactory(user=user)
    counts = {d.pk: d.session_count for d in devices_for(user=user)}
    assert counts == {counted.pk: 12, idle.pk: 0}
    assert list(devices_for(user=other)) == []


def test_the_registry_exports_and_erases_devices_of_one_customer_only():
    user, other = VerifiedUserFactory(), VerifiedUserFactory()
    device_add(user=user, mac="02:00:00:00:00:01", label="Phone")
    DeviceFactory(user=user, label="")
    kept = DeviceFactory(user=other)
    category = privacy.category("devices")
    assert [c.value for c in category.counts(user)] == [2]
    assert category.sample(user)[0] == "Phone (02:00:00:00:00:01)"
    exported = category.export(user)
    assert exported[0]["mac"] == "02:00:00:00:00:01" and exported[0]["randomised"] is True
    assert exported[1]["randomised"] is False and exported[1]["last_seen"] is None
    assert set(exported[0]) == {"mac", "label", "added", "last_seen", "randomised"}
    assert category.erase(user).deleted == {"devices": 2}
    assert not Device.objects.filter(user=user).exists()
    assert Device.objects.filter(pk=kept.pk).exists()
