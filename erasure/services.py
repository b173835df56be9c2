"""Account deletion: asked for by the customer, cancelled within the grace period,
erased by a worker through the privacy registry, recorded in the ledger.

- `account_delete_request`: the account is locked (it can no longer sign in) and
  every sign-in session ends at once; a confirmation email carries a cancel link
  valid for the grace period (ERASURE_GRACE_HOURS, see grace.py; with 0, erasure is
  queued at once).
- `account_delete_confirmation_send`: that email (again, from the locked account's
  sign-in page).
- `account_delete_cancel`: the link's token unlocks the account.
- `account_erase`: every registry category's `erase(user)`, then the account row
  itself, a ledger entry, and the itemised receipt email, in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from allauth.usersessions.models import UserSession
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ActivityEvent, User
from accounts.services import activity_record
from cloudportal.broker import queue_on_commit
from cloudportal.faults import fault_pause
from cloudportal.fragments import customer_changed
from cloudportal.outbox import absolute_url, email_queue
from cloudportal.privacy import (
    Category,
    Count,
    ErasureResult,
    HeldPart,
    activity_concealment_fixed,
    categories,
    counts_of,
)

from .grace import erasure_grace
from .ledger import LedgerLine, email_hash, ledger_file_append
from .models import ErasureLedgerEntry, ErasureRequest

logger = logging.getLogger(__name__)
CANCEL_SALT = "erasure.cancel"


# --- What will go ---------------------------------------------------------------


@dataclass(frozen=True)
class ErasurePreview:
    category: Category
    counts: list[Count]
    #: What holds the customer may be told of keep longer (as the receipt will say).
    held: tuple[HeldPart, ...] = ()


def erasure_preview(*, user: User) -> list[ErasurePreview]:
    """Each registry category with the customer's counts, and what legal holds they may
    know of keep, for the confirmation page."""
    counts = counts_of(user)
    return [ErasurePreview(category=c, counts=counts[c.key], held=c.held(user) if c.held else ()) for c in categories()]


# --- Ask, cancel ----------------------------------------------------------------


def cancel_token(request: ErasureRequest) -> str:
    return signing.dumps({"request": request.pk, "user": request.user_id}, salt=CANCEL_SALT)


def account_delete_request(*, user: User, staff: User | None = None) -> ErasureRequest:
    """Lock the account, sign it out everywhere, email the confirmation, and
    schedule erasure after the grace period. Asking twice is refused. `staff`: the
    staff member who does it because the customer asked them (the admin's action),
    named in the customer's activity history."""
    now = timezone.now()
    grace = erasure_grace()
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            request = ErasureRequest.objects.create(
                user=locked, requested_at=now, erase_after=now + grace, was_active=locked.is_active
            )
            User.objects.filter(pk=user.pk).update(is_active=False)
            for session in UserSession.objects.filter(user=user):
                session.end()
            activity_record(
                user=locked,
                action=ActivityEvent.Action.REQUESTED,
                category="account",
                actor_kind=ActivityEvent.Actor.STAFF if staff else ActivityEvent.Actor.CUSTOMER,
                actor=staff or locked,
                note="deletion",
            )
            request.user = locked
            account_delete_confirmation_send(erasure_request=request)
            if not grace:
                from . import tasks  # tasks.py imports this module

                queue_on_commit(tasks.account_erase, request.pk)
    except IntegrityError:
        raise ValidationError(_("Your account is already being deleted.")) from None
    return request


def account_delete_confirmation_send(*, erasure_request: ErasureRequest) -> None:
    """The confirmation email, with the link that cancels the deletion while the
    grace period lasts (none when erasure is immediate). Sent when the customer asks
    to delete, and again from the sign-in page of the locked account."""
    user = erasure_request.user
    in_grace = erasure_request.erase_after > erasure_request.requested_at
    email_queue(
        to=user.email,
        user=user,
        template="emails/account_deletion_confirm",
        context={
            "erase_after": erasure_request.erase_after,
            "cancel_url": absolute_url("me:delete_cancel", cancel_token(erasure_request)) if in_grace else "",
        },
    )


def erasure_request_for_token(*, token: str) -> ErasureRequest | None:
    """The pending request a cancel link names, while it can still be cancelled."""
    try:
        data = signing.loads(token, salt=CANCEL_SALT, max_age=erasure_grace())
    except signing.BadSignature:
        return None
    return (
        ErasureRequest.objects.filter(
            pk=data.get("request"),
            user_id=data.get("user"),
            status=ErasureRequest.Status.PENDING,
            erase_after__gt=timezone.now(),
        )
        .select_related("user")
        .first()
    )


@transaction.atomic
def account_delete_cancel(*, token: str) -> User:
    """Unlock the account. Raises ValidationError when the link is no longer valid
    (wrong, expired, already used, or the account is already erased)."""
    request = erasure_request_for_token(token=token)
    if request is not None:
        request = ErasureRequest.objects.select_for_update().filter(pk=request.pk, status="pending").first()
    if request is None or request.erase_after <= timezone.now():
        raise ValidationError(_("This link is no longer valid: the deletion was cancelled already, or has happened."))
    request.status = ErasureRequest.Status.CANCELLED
    request.cancelled_at = timezone.now()
    request.save(update_fields=["status", "cancelled_at"])
    user = request.user
    User.objects.filter(pk=user.pk).update(is_active=request.was_active)
    activity_record(
        user=user,
        action=ActivityEvent.Action.CHANGED,
        category="account",
        actor_kind=ActivityEvent.Actor.CUSTOMER,
        actor=user,
        note="deletion cancelled",
    )
    user.refresh_from_db()
    return user


# --- Erase ----------------------------------------------------------------------


@dataclass(frozen=True)
class ErasedCategory:
    category: Category
    result: ErasureResult


def _erase_everything(user: User) -> list[ErasedCategory]:
    """Every registry category's erase, then the account row (and what cascades)."""
    with activity_concealment_fixed(user):
        done = []
        for c in categories():
            done.append(ErasedCategory(category=c, result=c.erase(user)))
            fault_pause("erasure.category_erased")
    User.objects.filter(pk=user.pk).delete()
    customer_changed(user.pk)  # bulk deletes among the categories': no signal told
    return done


def erasures_due(*, now: datetime | None = None) -> list[int]:
    return list(
        ErasureRequest.objects.filter(
            status=ErasureRequest.Status.PENDING, erase_after__lte=now or timezone.now()
        ).values_list("pk", flat=True)
    )


def account_erase(*, request_id: int) -> list[ErasedCategory] | None:
    """Erase the account of a pending request whose grace period is over. Safe to
    run twice or at once: the request row is locked, and erasing deletes it."""
    with transaction.atomic():
        request = (
            ErasureRequest.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk=request_id, status=ErasureRequest.Status.PENDING, erase_after__lte=timezone.now())
            .first()
        )
        if request is None:
            return None
        user = request.user
        address, language, account_id = user.email, user.language, user.pk
        erased = _erase_everything(user)
        now = timezone.now()
        counts = {e.category.key: sum(e.result.deleted.values()) + sum(e.result.kept.values()) for e in erased}
        line = LedgerLine(account_id=account_id, email_hash=email_hash(address), erased_at=now)
        ErasureLedgerEntry.objects.create(
            account_id=line.account_id, email_hash=line.email_hash, erased_at=line.erased_at, counts=counts
        )
        email_queue(
            to=address,
            user=None,
            language=language,
            template="emails/account_erased",
            context={"erased": erased, "erased_at": now},
            forget_recipient=True,
        )
        # Written before the commit: if the commit fails, the worker runs this again,
        # and a line for an erasure the customer asked for is harmless.
        ledger_file_append(line)
    logger.info("account %s erased", account_id)
    return erased


# --- After a restore ------------------------------------------------------------


@dataclass
class LedgerApplyReport:
    erased: list[int]
    absent: int
    mismatched: list[int]


def ledger_apply(*, lines: list[LedgerLine]) -> LedgerApplyReport:
    """Erase again each account of the ledger that is back (a restored backup). An
    account is erased only if its id and the hash of one of its addresses match;
    one whose id matches but no address does is reported, not touched. No email is
    sent: the customer had their receipt."""
    from allauth.account.models import EmailAddress

    report = LedgerApplyReport(erased=[], absent=0, mismatched=[])
    seen: set[int] = set()
    for line in lines:
        if line.account_id in seen:
            continue
        seen.add(line.account_id)
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=line.account_id).first()
            if user is None:
                report.absent += 1
                continue
            addresses = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
            if line.email_hash not in {email_hash(a) for a in addresses}:
                report.mismatched.append(line.account_id)
                continue
            _erase_everything(user)
            if not ErasureLedgerEntry.objects.filter(account_id=line.account_id, email_hash=line.email_hash).exists():
                ErasureLedgerEntry.objects.create(
                    account_id=line.account_id, email_hash=line.email_hash, erased_at=line.erased_at
                )
            report.erased.append(line.account_id)
    return report
