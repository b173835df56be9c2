"""Data requests (the rights the statement names): filed by the customer, assigned,
extended, answered by staff, with the reminders of those due soon. Each step records
the activity history and sends its emails, whichever entry point calls it."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cloudportal.months import add_months
from cloudportal.outbox import absolute_url, email_queue

from .models import ActivityEvent, DataRequest, User
from .services import activity_record

Actor = ActivityEvent.Actor

#: How long staff have to answer, and the longest extension the law allows.
DATA_REQUEST_MONTHS = 1
DATA_REQUEST_MAX_EXTENSION_MONTHS = 2
#: Staff are reminded of open requests due within this many days.
DATA_REQUEST_REMIND_DAYS = 7


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
