"""Writes to a customer's account data. Views, the admin, commands and tasks all come
through here, so each change gets the same checks, history entry and email."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cloudportal.months import add_months
from cloudportal.outbox import absolute_url, email_queue

from .models import ActivityEvent, DataRequest, Profile, User

Actor = ActivityEvent.Actor

#: How long staff have to answer, and the longest extension the law allows.
DATA_REQUEST_MONTHS = 1
DATA_REQUEST_MAX_EXTENSION_MONTHS = 2
#: Staff are reminded of open requests due within this many days.
DATA_REQUEST_REMIND_DAYS = 7


# --- Activity history -------------------------------------------------------


def activity_record(
    *,
    user: User,
    action: str,
    category: str,
    actor_kind: str,
    actor: User | None = None,
    fields: list[str] | tuple[str, ...] = (),
    note: str = "",
) -> ActivityEvent:
    """The one way anything lands in a customer's activity history."""
    if actor_kind == Actor.STAFF and actor is None:
        raise ValueError("a staff event names the staff member")
    return ActivityEvent.objects.create(
        user=user,
        action=action,
        category=category,
        actor_kind=actor_kind,
        actor=actor if actor_kind == Actor.STAFF else None,
        fields=list(fields),
        note=note[:200],
    )


def actor_kind_for(*, user: User, actor: User | None) -> str:
    """Who made a change to `user`'s data: no actor is a job, the customer, or staff."""
    if actor is None:
        return Actor.JOB
    return Actor.CUSTOMER if actor.pk == user.pk else Actor.STAFF


# --- Deletion notices -------------------------------------------------------


def deletion_notice_send(
    *,
    user: User,
    category: str,
    fields: list[str] | tuple[str, ...] = (),
    template: str = "emails/deletion_notice",
    context: dict | None = None,
) -> None:
    """Tell the customer that data was deleted from a registry category, unless they
    turned notices off: the one place that decides. The notice lists `fields`; a
    category with a notice of its own gives its `template` and `context` (the
    retention sweep's "N sessions older than 12 months were erased")."""
    if not user.email_deletion_notices:
        return
    from cloudportal.privacy import category as privacy_category

    email_queue(
        to=user.email,
        user=user,
        template=template,
        context={"category": privacy_category(category).label, "fields": list(fields), **(context or {})},
    )


# --- Profile ----------------------------------------------------------------


@transaction.atomic
def profile_update(*, user: User, actor: User | None, data: dict) -> Profile:
    """Apply validated profile values. A field that had a value and is now empty is
    a deletion: recorded as such and announced by email."""
    profile = Profile.objects.select_for_update().filter(user=user).first() or Profile(user=user)
    changed: list[str] = []
    cleared: list[str] = []
    for name in Profile.EDITABLE_FIELDS:
        if name not in data:
            continue
        old = getattr(profile, name) or ""
        new = data[name] or ""
        if old == new:
            continue
        setattr(profile, name, new)
        (cleared if old and not new else changed).append(name)
    if not (changed or cleared) and profile.pk:
        return profile
    profile.save()
    kind = actor_kind_for(user=user, actor=actor)
    for action, names in ((ActivityEvent.Action.CHANGED, changed), (ActivityEvent.Action.DELETED, cleared)):
        if names:
            activity_record(user=user, action=action, category="profile", actor_kind=kind, actor=actor, fields=names)
    if cleared:
        labels = _field_labels(Profile)
        deletion_notice_send(user=user, category="profile", fields=[labels[n] for n in cleared])
    return profile


def _field_labels(model) -> dict[str, str]:
    return {f.name: f.verbose_name for f in model._meta.fields}


def staff_view_record(
    *, user: User, staff: User, category: str, fields: list[str] | tuple[str, ...] = (), reason: str = ""
) -> ActivityEvent:
    """A staff member opened one of the customer's records in the admin; `fields` and
    `reason` when they revealed data shown masked otherwise (accounts.reasons)."""
    return activity_record(
        user=user,
        action=ActivityEvent.Action.VIEWED,
        category=category,
        actor_kind=Actor.STAFF,
        actor=staff,
        fields=fields,
        note=reason,
    )


def user_change_record(*, user: User, staff: User, fields: list[str]) -> None:
    """Staff changed the account row itself in the admin (the admin saved it)."""
    preferences = [name for name in fields if name in PREFERENCE_FIELDS]
    account = [name for name in fields if name not in PREFERENCE_FIELDS]
    for category, names in (("preferences", preferences), ("account", account)):
        if names:
            activity_record(
                user=user,
                action=ActivityEvent.Action.CHANGED,
                category=category,
                actor_kind=Actor.STAFF,
                actor=staff,
                fields=names,
            )


# --- Preferences ------------------------------------------------------------

PREFERENCE_FIELDS = ("email_service_improvement", "email_deletion_notices", "language")


@transaction.atomic
def preferences_update(*, user: User, actor: User | None, data: dict) -> User:
    if "language" in data and data["language"] not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    changed = [name for name in PREFERENCE_FIELDS if name in data and getattr(user, name) != data[name]]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, data[name])
    user.save(update_fields=changed)
    activity_record(
        user=user,
        action=ActivityEvent.Action.CHANGED,
        category="preferences",
        actor_kind=actor_kind_for(user=user, actor=actor),
        actor=actor,
        fields=changed,
    )
    return user


def user_language_set(*, user: User, language: str) -> User:
    return preferences_update(user=user, actor=user, data={"language": language})


# --- Data requests ----------------------------------------------------------


@transaction.atomic
def data_request_file(*, user: User, kind: str, message: str, category: str = "") -> DataRequest:
    message = message.strip()
    if not message:
        raise ValidationError({"message": _("Tell us what you need.")})
    if kind not in DataRequest.Kind.values:
        raise ValidationError({"kind": _("Choose what your request is about.")})
    now = timezone.now()
    request = DataRequest.objects.create(
        user=user,
        kind=kind,
        category=category,
        message=message,
        created_at=now,
        due_at=add_months(now, DATA_REQUEST_MONTHS),
    )
    request.reference = request.reference_for()
    request.save(update_fields=["reference"])
    activity_record(
        user=user,
        action=ActivityEvent.Action.REQUESTED,
        category="data_requests",
        actor_kind=Actor.CUSTOMER,
        actor=user,
        note=request.get_kind_display(),
    )
    email_queue(
        to=user.email,
        user=user,
        template="emails/data_request_received",
        context={"data_request": request, "url": absolute_url("me:requests")},
    )
    data_request_staff_alert(data_request=request, recipients=data_request_staff(data_request=request))
    return request


def data_request_team() -> list[User]:
    """The staff who work the queue: every active member of Support and Privacy
    officer."""
    from .groups import PRIVACY_OFFICER, SUPPORT

    return list(
        User.objects.filter(is_active=True, is_staff=True, groups__name__in=[SUPPORT, PRIVACY_OFFICER]).distinct()
    )


def data_request_staff(*, data_request: DataRequest, team: list[User] | None = None) -> list[User]:
    """Who is told about a request: its assignee, or else the whole team."""
    if data_request.assigned_to is not None:
        return [data_request.assigned_to]
    return data_request_team() if team is None else team


def data_request_staff_alert(*, data_request: DataRequest, recipients: list[User], assigned_by: User | None = None):
    """Tell staff at once of a new request, or of one a colleague assigned them, each
    in their own language, with the link to it in the admin."""
    url = absolute_url("admin:accounts_datarequest_change", data_request.pk)
    for staff in recipients:
        email_queue(
            to=staff.email,
            user=None,
            language=staff.language,
            template="emails/data_request_staff",
            context={"staff": staff, "data_request": data_request, "assigned_by": assigned_by, "url": url},
        )


@transaction.atomic
def data_request_assign(*, data_request: DataRequest, staff: User | None, by: User | None = None) -> DataRequest:
    """Assign the request (to nobody, with None). An assignee other than `by` (the
    staff member assigning) is told by email."""
    if staff is not None and not staff.is_staff:
        raise ValidationError({"assigned_to": _("Only staff members can be assigned a request.")})
    data_request.assigned_to = staff
    if staff is not None and data_request.status == DataRequest.Status.OPEN:
        data_request.status = DataRequest.Status.IN_PROGRESS
    data_request.save(update_fields=["assigned_to", "status"])
    if staff is not None and by is not None and staff.pk != by.pk:
        data_request_staff_alert(data_request=data_request, recipients=[staff], assigned_by=by)
    return data_request


def data_request_extension_check(*, data_request: DataRequest, due_at: datetime, reason: str) -> None:
    """Raise ValidationError unless this extension is allowed."""
    if not data_request.is_open:
        raise ValidationError(_("An answered request cannot be extended."))
    if not reason.strip():
        raise ValidationError({"extension_reason": _("An extension needs a reason; the customer is told it.")})
    legal_due = add_months(data_request.created_at, DATA_REQUEST_MONTHS)
    latest = add_months(legal_due, DATA_REQUEST_MAX_EXTENSION_MONTHS)
    if due_at <= data_request.due_at:
        raise ValidationError({"due_at": _("An extension must move the due date later.")})
    if due_at > latest:
        raise ValidationError({"due_at": _("The due date can be extended by two months at most.")})


@transaction.atomic
def data_request_extend(*, data_request: DataRequest, staff: User, due_at: datetime, reason: str) -> DataRequest:
    """Push the due date back, at most two months past the legal one, with a reason
    that the customer is told by email."""
    reason = reason.strip()
    data_request_extension_check(data_request=data_request, due_at=due_at, reason=reason)
    data_request.due_at = due_at
    data_request.extension_reason = reason
    data_request.extended_at = timezone.now()
    data_request.save(update_fields=["due_at", "extension_reason", "extended_at"])
    user = data_request.user
    activity_record(
        user=user,
        action=ActivityEvent.Action.CHANGED,
        category="data_requests",
        actor_kind=Actor.STAFF,
        actor=staff,
        fields=["due_at"],
    )
    email_queue(
        to=user.email,
        user=user,
        template="emails/data_request_extended",
        context={"data_request": data_request, "url": absolute_url("me:requests")},
    )
    return data_request


@transaction.atomic
def data_request_answer(*, data_request: DataRequest, staff: User, answer: str) -> DataRequest:
    """Record the answer and email it to the customer. Answering twice is refused."""
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": _("Write the answer the customer will receive.")})
    locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if not locked.is_open:
        raise ValidationError(_("This request has already been answered."))
    locked.answer = answer
    locked.status = DataRequest.Status.ANSWERED
    locked.answered_at = timezone.now()
    locked.answered_by = staff
    locked.save(update_fields=["answer", "status", "answered_at", "answered_by"])
    user = locked.user
    activity_record(
        user=user,
        action=ActivityEvent.Action.ANSWERED,
        category="data_requests",
        actor_kind=Actor.STAFF,
        actor=staff,
        note=locked.get_kind_display(),
    )
    email_queue(
        to=user.email,
        user=user,
        template="emails/data_request_answered",
        context={"data_request": locked, "url": absolute_url("me:requests")},
    )
    return locked


def data_requests_remind(*, now: datetime | None = None) -> int:
    """Email staff about open requests due soon or overdue, at most once a day each.
    Goes to the assignee, or to the team (`data_request_staff`)."""
    from datetime import timedelta

    now = now or timezone.now()
    soon = now + timedelta(days=DATA_REQUEST_REMIND_DAYS)
    due = (
        DataRequest.objects.exclude(status=DataRequest.Status.ANSWERED)
        .filter(due_at__lte=soon)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - timedelta(hours=23)))
        .select_related("assigned_to")
        .order_by("due_at")
    )
    team = data_request_team()
    per_recipient: dict[int, tuple[User, list[DataRequest]]] = {}
    reminded = []
    for data_request in due:
        for staff in data_request_staff(data_request=data_request, team=team):
            per_recipient.setdefault(staff.pk, (staff, []))[1].append(data_request)
        reminded.append(data_request.pk)
    with transaction.atomic():
        for staff, items in per_recipient.values():
            email_queue(
                to=staff.email,
                user=None,
                language=staff.language,
                template="emails/data_requests_reminder",
                context={
                    "staff": staff,
                    "items": items,
                    "url": absolute_url("admin:accounts_datarequest_changelist"),
                },
            )
        DataRequest.objects.filter(pk__in=reminded).update(reminded_at=now)
    return len(reminded)


# --- Suspension by staff ----------------------------------------------------------


@transaction.atomic
def account_suspend(*, user: User, staff: User, suspend: bool = True) -> bool:
    """Suspend the account (SPEC §3): the customer can still sign in, but only to
    export their data, delete the account or sign out (accounts.middleware); with
    `suspend=False`, lift the suspension. Returns False when there was nothing to
    change."""
    accounts = User.objects.filter(pk=user.pk, suspended_at__isnull=suspend)
    if not accounts.update(suspended_at=timezone.now() if suspend else None):
        return False
    activity_record(
        user=user,
        action=ActivityEvent.Action.CHANGED,
        category="account",
        actor_kind=Actor.STAFF,
        actor=staff,
        note="suspended" if suspend else "reinstated",
    )
    return True
