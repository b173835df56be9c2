"""allauth's account changes land in the customer's activity history too."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.dispatch import receiver

from .adapter import INACTIVE_SIGN_IN_KEY
from .models import ActivityEvent
from .services import activity_record

Action = ActivityEvent.Action


def _record(user, action: str, field: str) -> None:
    activity_record(
        user=user,
        action=action,
        category="account",
        actor_kind=ActivityEvent.Actor.CUSTOMER,
        actor=user,
        fields=[field],
    )


@receiver(account_signals.user_signed_up, dispatch_uid="activity.signed_up")
def _signed_up(sender, request, user, **kwargs):
    _record(user, Action.CREATED, "account")


@receiver(account_signals.email_added, dispatch_uid="activity.email_added")
def _email_added(sender, request, user, email_address, **kwargs):
    _record(user, Action.CREATED, "email_address")


@receiver(account_signals.email_removed, dispatch_uid="activity.email_removed")
def _email_removed(sender, request, user, email_address, **kwargs):
    _record(user, Action.DELETED, "email_address")


@receiver(account_signals.email_changed, dispatch_uid="activity.email_changed")
def _email_changed(sender, request, user, from_email_address=None, to_email_address=None, **kwargs):
    if from_email_address is not None and to_email_address is not None and from_email_address.pk == to_email_address.pk:
        return  # "Make primary" on the primary address: nothing changed
    _record(user, Action.CHANGED, "primary_email")


@receiver(account_signals.email_confirmed, dispatch_uid="activity.email_confirmed")
def _email_confirmed(sender, request, email_address, **kwargs):
    _record(email_address.user, Action.CHANGED, "email_verified")


@receiver(account_signals.password_changed, dispatch_uid="activity.password_changed")
@receiver(account_signals.password_set, dispatch_uid="activity.password_set")
@receiver(account_signals.password_reset, dispatch_uid="activity.password_reset")
def _password_changed(sender, request, user, **kwargs):
    _record(user, Action.CHANGED, "password")


@receiver(mfa_signals.authenticator_added, dispatch_uid="activity.mfa_added")
def _mfa_added(sender, request, user, authenticator, **kwargs):
    _record(user, Action.CREATED, "two_factor")


@receiver(mfa_signals.authenticator_removed, dispatch_uid="activity.mfa_removed")
def _mfa_removed(sender, request, user, authenticator, **kwargs):
    _record(user, Action.DELETED, "two_factor")


@receiver(mfa_signals.authenticator_reset, dispatch_uid="activity.mfa_reset")
def _mfa_reset(sender, request, user, authenticator, **kwargs):
    _record(user, Action.CHANGED, "recovery_codes")


@receiver(account_signals.user_logged_in, dispatch_uid="accounts.inactive_sign_in_forgotten")
def _inactive_sign_in_forgotten(sender, request, user, **kwargs):
    """Someone signed in on this browser: the locked account it tried before is not
    theirs to be told about."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(INACTIVE_SIGN_IN_KEY, None)
