"""Writes to authority requests. The admin comes through here, so every step lands in
the request's audit trail, and only the lawful path is open: lookups while the
request is prepared, a decision by a second Privacy officer, and on approval, in one
transaction, the legal holds, the disclosures and the count for the transparency
report; the package after that.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.groups import PRIVACY_OFFICER
from accounts.models import User
from accounts.services import staff_view_record
from cloudportal.outbox import absolute_url, email_queue
from compliance.models import Disclosure, LegalHold
from compliance.services import (
    disclosure_change,
    disclosure_record,
    legal_hold_change,
    legal_hold_lift,
    legal_hold_place,
)

from .lookups import lookup_check, lookup_matches_store
from .models import AuthorityRequest, Lookup, LookupMatch, RequestEvent
from .selectors import accounts_concerned, may_see_unmasked, request_preparers

Status = AuthorityRequest.Status
Decision = AuthorityRequest.Decision
Action = RequestEvent.Action

REQUEST_FIELDS = AuthorityRequest.STAFF_FIELDS
AFTER_DECISION_FIELDS = AuthorityRequest.AFTER_DECISION_FIELDS
#: A hold placed on approval is due for review this many days later.
HOLD_REVIEW_DAYS = 90


class FourEyesError(PermissionDenied):
    """The officer who prepared a request may not decide it."""


def _record(request: AuthorityRequest, action: str, staff: User | None, note: str = "") -> RequestEvent:
    return RequestEvent.objects.create(request=request, action=action, staff=staff, note=note[:500])


def _locked(request: AuthorityRequest) -> AuthorityRequest:
    return AuthorityRequest.objects.select_for_update().get(pk=request.pk)


def _refuse_unless(request: AuthorityRequest, *statuses: str, message: str) -> None:
    if request.status not in statuses:
        raise ValidationError(message)


# --- Opening and changing ---------------------------------------------------------


@transaction.atomic
def authority_request_open(*, staff: User, **values) -> AuthorityRequest:
    """Record a request as received; `values` are REQUEST_FIELDS."""
    request = AuthorityRequest(created_by=staff, created_at=timezone.now(), status=Status.RECEIVED, **values)
    request.full_clean(exclude=["created_by"])
    request.save()
    _record(request, Action.OPENED, staff)
    return request


@transaction.atomic
def authority_request_change(*, request: AuthorityRequest, staff: User, values: dict) -> AuthorityRequest:
    """Change what staff set on a request; the fields changed are audited by name. Once
    decided, only the due date, the officer, the notes and the notice day change; a new
    notice day goes to the request's disclosures (and its holds, once it has come)."""
    locked = _locked(request)
    if locked.closed_at is not None:
        raise ValidationError(_("A closed request cannot be changed."))
    allowed = AFTER_DECISION_FIELDS if locked.is_decided else REQUEST_FIELDS
    changed = [name for name in REQUEST_FIELDS if name in values and values[name] != getattr(locked, name)]
    refused = [name for name in changed if name not in allowed]
    if refused:
        raise ValidationError(
            _("Once the request is decided, only its due date, officer, notes and notice day change.")
        )
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, values[name])
    locked.full_clean(exclude=["created_by"])
    locked.save()
    _record(locked, Action.CHANGED, staff, ", ".join(changed))
    if "notice_from" in changed and locked.decision == Decision.APPROVED:
        _notice_apply(locked, staff)
    return locked


def _visible_from(request: AuthorityRequest, disclosed_on: date) -> date | None:
    if request.notice_from is None:
        return None
    return max(request.notice_from, disclosed_on)


def _notice_apply(request: AuthorityRequest, staff: User) -> None:
    for disclosure in request.disclosures.all():
        disclosure_change(
            disclosure=disclosure, staff=staff, visible_from=_visible_from(request, disclosure.disclosed_on)
        )
    if request.notice_from is not None and request.notice_from <= timezone.localdate():
        for hold in request.holds.filter(customer_may_be_told=False, released_at__isnull=True):
            legal_hold_change(hold=hold, staff=staff, values={"customer_may_be_told": True})
    shown = formats.date_format(request.notice_from, "DATE_FORMAT") if request.notice_from else _("not yet")
    _record(request, Action.NOTICE, staff, shown)


# --- Lookups ----------------------------------------------------------------------


@transaction.atomic
def lookup_run(*, request: AuthorityRequest, staff: User, kind: str, value: str, starts_at, ends_at) -> Lookup:
    """Check and run a lookup, copying the sessions it matches (as they were recorded);
    refused once the request is sent for approval."""
    locked = _locked(request)
    _refuse_unless(
        locked,
        *AuthorityRequest.PREPARING,
        message=_("Lookups can only be added before the request is sent for approval."),
    )
    checked = lookup_check(kind=kind, value=value, starts_at=starts_at, ends_at=ends_at)
    lookup = Lookup.objects.create(
        request=locked,
        kind=checked.kind,
        ip=checked.ip,
        mac=checked.mac,
        email=checked.email,
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        created_by=staff,
    )
    lookup.sessions, lookup.accounts = lookup_matches_store(lookup=lookup)
    lookup.save(update_fields=["sessions", "accounts"])
    if locked.status == Status.RECEIVED:
        locked.status = Status.LOOKUP
        locked.save(update_fields=["status"])
    _record(
        locked,
        Action.LOOKUP,
        staff,
        _("lookup #%(n)s: %(sessions)s sessions, %(accounts)s accounts")
        % {"n": lookup.pk, "sessions": lookup.sessions, "accounts": lookup.accounts},
    )
    return lookup


# --- Approval ---------------------------------------------------------------------


@transaction.atomic
def approval_ask(*, request: AuthorityRequest, staff: User) -> AuthorityRequest:
    """Send the prepared request to a second Privacy officer; they are emailed."""
    locked = _locked(request)
    _refuse_unless(locked, Status.LOOKUP, message=_("Run at least one lookup before asking for approval."))
    locked.status = Status.AWAITING
    locked.save(update_fields=["status"])
    _record(locked, Action.SUBMITTED, staff)
    preparers = request_preparers(request=locked)
    officers = User.objects.filter(groups__in=Group.objects.filter(name=PRIVACY_OFFICER), is_active=True)
    for officer in officers.exclude(pk__in=preparers).distinct():
        email_queue(
            to=officer.email,
            user=officer,
            template="emails/authority_request_approval",
            context={
                "request": locked,
                "preparer": str(staff),
                "url": absolute_url("admin:authorities_authorityrequest_change", locked.pk),
            },
        )
    return locked


@transaction.atomic
def approval_withdraw(*, request: AuthorityRequest, staff: User) -> AuthorityRequest:
    """Take a request back from approval, to add lookups."""
    locked = _locked(request)
    _refuse_unless(locked, Status.AWAITING, message=_("This request is not awaiting approval."))
    locked.status = Status.LOOKUP
    locked.save(update_fields=["status"])
    _record(locked, Action.RETURNED, staff)
    return locked


def decide_check(*, request: AuthorityRequest, staff: User) -> None:
    """Raises FourEyesError when `staff` prepared the request."""
    if staff.pk in request_preparers(request=request):
        raise FourEyesError(_("You prepared this request: another Privacy officer must decide it."))


@transaction.atomic
def request_decide(*, request: AuthorityRequest, staff: User, decision: str, reason: str) -> AuthorityRequest:
    """A second Privacy officer approves, refuses or challenges the request, with a reason.

    Approving places, in this transaction, a legal hold on each lookup's scope and
    window (so the sweep cannot erase what is to be disclosed), records a disclosure
    for each customer concerned (with the request's notice day) and counts the
    request for the transparency report (its decision and day); the package is then
    built by a worker. Challenging places the holds only (the data is kept while the
    request is contested); refusing places nothing. A challenged request may later
    be approved or refused."""
    locked = _locked(request)
    _refuse_unless(
        locked, Status.AWAITING, Status.CHALLENGED, message=_("Only a request awaiting approval can be decided.")
    )
    decide_check(request=locked, staff=staff)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the decision.")})
    if decision not in Decision.values or (locked.status == Status.CHALLENGED and decision == Decision.CHALLENGED):
        raise ValidationError({"decision": _("Choose one of the decisions offered.")})
    if decision in (Decision.APPROVED, Decision.CHALLENGED) and not locked.holds.exists():
        _holds_place(locked, staff, told=decision == Decision.APPROVED)
    if decision == Decision.APPROVED:
        _disclosures_record(locked, staff)
    locked.decision, locked.decided_at, locked.decided_by = decision, timezone.now(), staff
    locked.decision_reason = reason
    locked.status = {Decision.APPROVED: Status.APPROVED, Decision.REFUSED: Status.REFUSED}.get(
        decision, Status.CHALLENGED
    )
    locked.full_clean(exclude=["created_by"])
    locked.save()
    _record(
        locked, {"approved": Action.APPROVED, "refused": Action.REFUSED}.get(decision, Action.CHALLENGED), staff, reason
    )
    if decision == Decision.APPROVED:
        from .package import package_queue  # package.py reads this module's models

        package_queue(request=locked, staff=staff)
    return locked


def _hold_values(request: AuthorityRequest, lookup: Lookup, told: bool) -> dict:
    return {
        "starts_at": lookup.starts_at,
        "ends_at": lookup.ends_at,
        "authority": request.authority[:200],
        "reference": request.reference[:200],
        "customer_may_be_told": told,
        "review_on": timezone.localdate() + timedelta(days=HOLD_REVIEW_DAYS),
    }


def _holds_place(request: AuthorityRequest, staff: User, *, told: bool) -> None:
    """One hold per lookup that matched something, on its scope and window: its IP or
    MAC address, or each account whose sessions an account lookup matched (pinned to
    the subscribers it matched, so the hold outlives the account's erasure)."""
    told = told and request.notice_from is not None and request.notice_from <= timezone.localdate()
    holds = []
    for lookup in request.lookups.filter(sessions__gt=0):
        values = _hold_values(request, lookup, told)
        if lookup.kind == Lookup.Kind.IP:
            holds.append(legal_hold_place(staff=staff, scope=LegalHold.Scope.IP, ip=lookup.ip, **values))
        elif lookup.kind == Lookup.Kind.MAC:
            holds.append(legal_hold_place(staff=staff, scope=LegalHold.Scope.MAC, mac=lookup.mac, **values))
        else:
            accounts = (
                LookupMatch.objects.filter(lookup=lookup, account_ref__isnull=False)
                .values_list("account_ref", "subscriber_ref")
                .distinct()
            )
            subscribers: dict[int, set[int]] = {}
            for account, subscriber in accounts:
                subscribers.setdefault(account, set()).add(subscriber)
            for account, ids in sorted(subscribers.items()):
                holds.append(
                    legal_hold_place(
                        staff=staff,
                        scope=LegalHold.Scope.ACCOUNT,
                        account=User.objects.filter(pk=account).first(),
                        account_ref=account,
                        subscriber_ids=sorted(i for i in ids if i is not None),
                        **values,
                    )
                )
    request.holds.add(*holds)


def _disclosure_text(user: User | None, sessions: int, first, last) -> str:
    with translation.override(user.language if user else None):
        return _(
            "%(count)s sessions from %(first)s to %(last)s: start and end, device MAC address, IP address, "
            "site, data in and out, and the account email as recorded"
        ) % {
            "count": sessions,
            "first": formats.date_format(timezone.localtime(first), "DATETIME_FORMAT"),
            "last": formats.date_format(timezone.localtime(last), "DATETIME_FORMAT"),
        }


def _disclosures_record(request: AuthorityRequest, staff: User) -> None:
    """A disclosure for each account concerned, and one for the sessions no account
    held (so every disclosure is on record), each with the request's notice day."""
    today = timezone.localdate()
    groups = (
        LookupMatch.objects.filter(lookup__request=request)
        .values("account_ref")
        .annotate(n=Count("session_pk", distinct=True), first=Min("started_at"), last=Max("ended_at"))
        .order_by("account_ref")
    )
    hold = request.holds.order_by("pk").first()
    disclosures = []
    for group in groups:
        customer = User.objects.filter(pk=group["account_ref"]).first() if group["account_ref"] else None
        disclosures.append(
            disclosure_record(
                staff=staff,
                customer=customer,
                data_disclosed=_disclosure_text(customer, group["n"], group["first"], group["last"]),
                recipient=request.authority[:200],
                authority_kind=request.authority_kind,
                legal_basis=request.legal_basis[:300],
                reference=request.reference[:200],
                disclosed_on=today,
                visible_from=_visible_from(request, today),
                hold=hold,
            )
        )
    request.disclosures.add(*disclosures)


# --- After the decision -------------------------------------------------------------


@transaction.atomic
def results_reveal(*, lookup: Lookup, staff: User, reason: str) -> None:
    """Record that `staff` opened a lookup's results in clear, and why: in the
    request's trail and in the activity history of each customer concerned (hidden
    from them while they may not know of the request: authorities/privacy.py)."""
    request = AuthorityRequest.objects.get(pk=lookup.request_id)
    if not may_see_unmasked(request):
        raise PermissionDenied(_("Results show in clear only once the disclosure is approved."))
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Say why you need to see the results in clear.")})
    note = f"{_('Authority request #%(number)s') % {'number': request.pk}}: {reason}"
    for user in User.objects.filter(pk__in=accounts_concerned(request=request)):
        with translation.override(user.language or None):
            shown = f"{_('Authority request #%(number)s') % {'number': request.pk}}: {reason}"
        staff_view_record(user=user, staff=staff, category="access_logs", reason=shown)
    _record(request, Action.VIEWED, staff, note)


@transaction.atomic
def request_close(*, request: AuthorityRequest, staff: User, reason: str) -> AuthorityRequest:
    """Close a request: its holds are lifted (what they kept past its retention goes at
    the next sweep), its copies of the matched sessions and its packages deleted.
    What was disclosed stays on record as disclosures."""
    from .package import packages_expire_for

    locked = _locked(request)
    if locked.closed_at is not None:
        return locked
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the request is closed.")})
    for hold in locked.holds.filter(released_at__isnull=True):
        legal_hold_lift(hold=hold, staff=staff, reason=_("Authority request closed: %(reason)s") % {"reason": reason})
    LookupMatch.objects.filter(lookup__request=locked).delete()
    packages_expire_for(request=locked)
    locked.status, locked.closed_at = Status.CLOSED, timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    _record(locked, Action.CLOSED, staff, reason)
    return locked


def disclosures_of(*, request: AuthorityRequest):
    return Disclosure.objects.filter(pk__in=request.disclosures.values("pk"))
