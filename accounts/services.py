"""Writes to a customer's account data. Views, the admin, commands and tasks all come
through here, so each change gets the same checks, history entry and email."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cloudportal.fragments import customer_changed
from cloudportal.outbox import email_queue

from .models import ActivityEvent, Profile, User

Actor = ActivityEvent.Actor

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
    customer_changed(user.pk)
    activity_record(
        user=user,
        action=ActivityEvent.Action.CHANGED,
        category="account",
        actor_kind=Actor.STAFF,
        actor=staff,
        note="suspended" if suspend else "reinstated",
    )
    return True
