"""Writes to legal holds and disclosures. The admin comes through here, so every
action on a hold lands in its audit trail and in the customer's activity history
(hidden from the customer while a hold that forbids notice is in force: see
compliance/selectors.py)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ActivityEvent, User
from accounts.services import activity_record
from devices.mac import mac_parse
from devices.models import Device

from .models import Disclosure, LegalHold, LegalHoldEvent

#: Fields of a hold that staff set; a change to any of them is audited by name.
HOLD_FIELDS = (
    "scope",
    "account",
    "mac",
    "ip",
    "starts_at",
    "ends_at",
    "authority",
    "reference",
    "customer_may_be_told",
    "review_on",
    "expires_at",
)


def hold_customer(*, hold: LegalHold) -> User | None:
    """The customer a hold is about, when there is one to record it for: the account,
    or whoever holds the MAC address now. An IP address names no customer."""
    if hold.scope == LegalHold.Scope.ACCOUNT:
        return hold.account
    if hold.scope == LegalHold.Scope.MAC:
        device = Device.objects.filter(mac=hold.mac).select_related("user").first()
        return device.user if device else None
    return None


def _history_note(user: User, text: Promise) -> str:
    with translation.override(user.language):
        return str(text)


def _hold_record(
    *, hold: LegalHold, action: str, staff: User | None, fields: list[str] = (), note: str = ""
) -> LegalHoldEvent:
    event = LegalHoldEvent.objects.create(hold=hold, action=action, staff=staff, fields=list(fields), note=note)
    customer = hold_customer(hold=hold)
    if customer is not None:
        notes = {
            LegalHoldEvent.Action.PLACED: gettext_lazy("a legal hold was placed on your access logs"),
            LegalHoldEvent.Action.CHANGED: gettext_lazy("a legal hold on your access logs was changed"),
            LegalHoldEvent.Action.LIFTED: gettext_lazy("a legal hold on your access logs was lifted"),
            LegalHoldEvent.Action.EXPIRED: gettext_lazy("a legal hold on your access logs ended"),
        }
        activity_record(
            user=customer,
            action=ActivityEvent.Action.CREATED
            if action == LegalHoldEvent.Action.PLACED
            else ActivityEvent.Action.CHANGED,
            category="legal_holds",
            actor_kind=ActivityEvent.Actor.STAFF if staff else ActivityEvent.Actor.JOB,
            actor=staff,
            note=_history_note(customer, notes[action]),
        )
    return event


def legal_hold_check(hold: LegalHold) -> None:
    """Keep only the scope's own field, and refuse what would hold nothing or too much."""
    errors = {}
    if hold.scope == LegalHold.Scope.ACCOUNT:
        if hold.account_id is None and hold.account_ref is None:
            errors["account"] = _("Choose the account to hold.")
        hold.mac, hold.ip = "", None
        if hold.account_id is not None:
            hold.account_ref = hold.account_id
    elif hold.scope == LegalHold.Scope.MAC:
        try:
            hold.mac = mac_parse(hold.mac).canonical
        except ValidationError as exc:
            errors["mac"] = exc.messages
        hold.account, hold.account_ref, hold.ip = None, None, None
    elif hold.scope == LegalHold.Scope.IP:
        if not hold.ip:
            errors["ip"] = _("Give the IP address to hold.")
        hold.account, hold.account_ref, hold.mac = None, None, ""
    else:
        errors["scope"] = _("Choose what the hold is on.")
    if hold.ends_at is not None and hold.starts_at and hold.ends_at < hold.starts_at:
        errors["ends_at"] = _("The end of the range must come after its start.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def legal_hold_place(*, staff: User, **values) -> LegalHold:
    """Place a hold; from now on the sessions in its scope survive sweeps and erasure."""
    hold = LegalHold(created_by=staff, created_at=timezone.now(), **values)
    legal_hold_check(hold)
    hold.full_clean(exclude=["created_by"])
    hold.save()
    _hold_record(hold=hold, action=LegalHoldEvent.Action.PLACED, staff=staff)
    return hold


@transaction.atomic
def legal_hold_change(*, hold: LegalHold, staff: User, values: dict) -> LegalHold:
    """Change a hold in force; the fields changed are audited by name."""
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        raise ValidationError(_("A lifted hold cannot be changed."))
    before = {name: getattr(locked, name) for name in HOLD_FIELDS}
    for name in HOLD_FIELDS:
        if name in values:
            setattr(locked, name, values[name])
    legal_hold_check(locked)  # puts addresses in canonical form first: a respelling is no change
    changed = [name for name in HOLD_FIELDS if getattr(locked, name) != before[name]]
    if not changed:
        return locked
    locked.full_clean(exclude=["created_by"])
    locked.save()
    if locked.scope == LegalHold.Scope.ACCOUNT:
        # The account may have changed: its own subscribers are pinned by the next
        # sweep, or before it is erased (accesslogs.holds.legal_holds_pin).
        locked.subscriber_ids = []
        locked.save(update_fields=["subscriber_ids"])
    _hold_record(hold=locked, action=LegalHoldEvent.Action.CHANGED, staff=staff, fields=changed)
    return locked


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, staff: User, reason: str) -> LegalHold:
    """End a hold now. What it held and is past its retention goes at the next sweep.
    Lifting twice changes nothing."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"release_reason": _("Say why the hold is lifted.")})
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        return locked
    locked.released_at, locked.released_by, locked.release_reason = timezone.now(), staff, reason[:300]
    locked.save(update_fields=["released_at", "released_by", "release_reason"])
    _hold_record(hold=locked, action=LegalHoldEvent.Action.LIFTED, staff=staff, note=reason[:300])
    return locked


def legal_holds_expire(*, now: datetime) -> int:
    """Record, once each, the holds that reached their expiry (run by the sweep)."""
    recorded = 0
    due = LegalHold.objects.filter(released_at__isnull=True, expires_at__lte=now).exclude(
        events__action=LegalHoldEvent.Action.EXPIRED
    )
    for hold in due:
        try:
            with transaction.atomic():
                _hold_record(hold=hold, action=LegalHoldEvent.Action.EXPIRED, staff=None)
        except IntegrityError:
            continue  # another run recorded it first
        recorded += 1
    return recorded


@transaction.atomic
def disclosure_record(*, staff: User, **values) -> Disclosure:
    """Record a disclosure made to an authority. The customer sees it on
    /me/disclosures/ from `visible_from`, and nothing else tells them before (no
    history entry, no email); the transparency page counts it once its half-year is
    published."""
    disclosure = Disclosure(created_by=staff, created_at=timezone.now(), **values)
    disclosure.full_clean(exclude=["created_by"])
    disclosure.save()
    return disclosure


@transaction.atomic
def disclosure_change(*, disclosure: Disclosure, staff: User, visible_from) -> Disclosure:
    """Set from when the customer may see a disclosure (the rest of it is history)."""
    locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    locked.visible_from = visible_from
    locked.full_clean()
    locked.save(update_fields=["visible_from"])
    return locked
