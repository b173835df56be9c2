"""Writes to a customer's devices. Views, the admin, commands and tasks all come
through here, so each change gets the same checks, history entry and email."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ActivityEvent, User
from accounts.services import Actor, activity_record, actor_kind_for, deletion_notice_send

from .mac import MacError, mac_parse
from .models import Device

LABEL_MAX_LENGTH = Device._meta.get_field("label").max_length


def _fields(device: Device) -> list[str]:
    """What a device record holds, by field name (never values) for the history."""
    return ["mac", "label"] if device.label else ["mac"]


def _label_clean(label: str) -> str:
    label = " ".join(label.split())
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationError(
            {"label": _("A label can be %(limit)d characters long at most.") % {"limit": LABEL_MAX_LENGTH}}
        )
    return label


def _refusal(*, user: User, mac: str) -> ValidationError | None:
    """Why `user` cannot add the canonical `mac`, if they cannot. Whoever else holds
    it, the answer is the same sentence: it says nothing about that account."""
    holder_id = Device.objects.filter(mac=mac).values_list("user_id", flat=True).first()
    if holder_id is None:
        return None
    if holder_id == user.pk:
        return ValidationError({"mac": _("You have already added this device.")}, code="duplicate")
    unavailable = _(
        "This MAC address cannot be added to your account. If the device is yours, contact us through Requests."
    )
    return ValidationError({"mac": unavailable}, code="unavailable")


@transaction.atomic
def device_add(*, user: User, mac: str, label: str = "") -> Device:
    """The customer adds one of their devices, by its MAC address in any usual spelling.

    A MAC address belongs to one account at most: one already held, by this customer
    or anyone else, is refused with a ValidationError, also when another request
    adds it at the same moment (the unique constraint has the last word)."""
    try:
        parsed = mac_parse(mac)
    except MacError as exc:
        raise ValidationError({"mac": exc}) from None
    label = _label_clean(label)
    refusal = _refusal(user=user, mac=parsed.canonical)
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            device = Device.objects.create(user=user, mac=parsed.canonical, label=label)
    except IntegrityError:
        # Added by another request since the check above; the savepoint keeps the
        # surrounding transaction usable, so the holder can be looked up again.
        raise _refusal(user=user, mac=parsed.canonical) or ValidationError(
            _("This device could not be added. Please try again.")
        ) from None
    activity_record(
        user=user,
        action=ActivityEvent.Action.CREATED,
        category="devices",
        actor_kind=Actor.CUSTOMER,
        actor=user,
        fields=_fields(device),
    )
    return device


@transaction.atomic
def device_rename(*, device: Device, label: str, actor: User | None) -> Device:
    """Change the label. Emptying it deletes it: recorded as a deletion and announced
    by email, as for any other field the customer clears."""
    label = _label_clean(label)
    locked = Device.objects.select_for_update(of=("self",)).select_related("user").filter(pk=device.pk).first()
    if locked is None:
        raise ValidationError(_("This device has been removed."), code="removed")
    old = locked.label
    if old == label:
        return locked
    locked.label = label
    locked.save(update_fields=["label"])
    device.label = label
    user = locked.user
    cleared = bool(old) and not label
    activity_record(
        user=user,
        action=ActivityEvent.Action.DELETED if cleared else ActivityEvent.Action.CHANGED,
        category="devices",
        actor_kind=actor_kind_for(user=user, actor=actor),
        actor=actor,
        fields=["label"],
    )
    if cleared:
        deletion_notice_send(
            user=user,
            category="devices",
            fields=[format_lazy(gettext_lazy("the label of {mac}"), mac=locked.mac)],
        )
    return locked


@transaction.atomic
def device_remove(*, device: Device, actor: User | None) -> None:
    """Remove the device: sessions from its MAC address are no longer linked to the
    customer. Recorded in the history and announced by email. Removing a device
    that is already gone (a second click) does nothing."""
    user = device.user
    deleted, _by_model = Device.objects.filter(pk=device.pk).delete()
    if not deleted:
        return
    activity_record(
        user=user,
        action=ActivityEvent.Action.DELETED,
        category="devices",
        actor_kind=actor_kind_for(user=user, actor=actor),
        actor=actor,
        fields=_fields(device),
    )
    # The email goes only to the customer, so it may name the device.
    deletion_notice_send(user=user, category="devices", fields=[str(device)])
