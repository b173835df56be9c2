"""The accounts app's categories in the privacy registry."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy as _

from cloudportal.dates import moment_shown
from cloudportal.months import add_months
from cloudportal.privacy import (
    CONTRACT,
    EMAIL_PROVIDER,
    EU_DATABASE,
    HOSTING,
    LIFE_OF_ACCOUNT,
    Category,
    Count,
    ErasureResult,
    Scalar,
    category_label,
    erase_rows,
    noun,
    register,
)

from .models import ActivityEvent, DataRequest, Profile, User
from .selectors import activity_for, profile_rows
from .services import PREFERENCE_FIELDS, activity_record, deletion_notice_send

#: Answered data requests are kept this long after their answer.
DATA_REQUEST_RETENTION_MONTHS = 12


# --- Account ----------------------------------------------------------------


def _account_counts(user: User) -> list[Count]:
    return [
        Count(noun("email address", "email addresses"), EmailAddress.objects.filter(user=user)),
        Count(noun("two-factor method", "two-factor methods"), Authenticator.objects.filter(user=user)),
        Count(noun("sign-in session", "sign-in sessions"), UserSession.objects.filter(user=user)),
    ]


def _account_sample(user: User) -> list[str]:
    emails = EmailAddress.objects.filter(user=user).order_by("-primary", "email")[:3]
    return [e.email for e in emails]


def _account_export(user: User) -> list[dict]:
    return [
        {
            "email": user.email,
            "joined": user.date_joined.isoformat(),
            "last_sign_in": user.last_login.isoformat() if user.last_login else None,
            "suspended_since": user.suspended_at.isoformat() if user.suspended_at else None,
            "email_addresses": [
                {"email": e.email, "verified": e.verified, "primary": e.primary}
                for e in EmailAddress.objects.filter(user=user)
            ],
            "two_factor_methods": [
                {"type": a.type, "created": a.created_at.isoformat()} for a in Authenticator.objects.filter(user=user)
            ],
            "sign_in_sessions": [
                {"ip": s.ip, "user_agent": s.user_agent, "created": s.created_at.isoformat()}
                for s in UserSession.objects.filter(user=user)
            ],
        }
    ]


def _account_erase(user: User) -> ErasureResult:
    """Sign-in material goes; the account row itself is removed by account erasure."""
    user.set_unusable_password()
    user.save(update_fields=["password"])
    deleted = {noun("password", "password"): 1}
    for label, model in (
        (noun("sign-in session", "sign-in sessions"), UserSession),
        (noun("two-factor method", "two-factor methods"), Authenticator),
        (noun("email address", "email addresses"), EmailAddress),
    ):
        deleted |= erase_rows(label, model.objects.filter(user=user)).deleted
    # Django's log of staff changes names the account by its address: by number now.
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=f"#{user.pk}"
    )
    return ErasureResult(deleted=deleted)


register(
    Category(
        key="account",
        label=_("Account"),
        description=_("What lets you sign in: your email addresses, password, two-factor methods and sessions."),
        fields=(
            _("email addresses"),
            _("password (stored only as a hash)"),
            _("two-factor methods"),
            _("sessions"),
            _("whether our staff suspended the account, and since when"),
        ),
        purpose=_("To give you, and only you, access to your data."),
        legal_basis=CONTRACT,
        retention=LIFE_OF_ACCOUNT,
        storage=EU_DATABASE,
        processors=(HOSTING, EMAIL_PROVIDER),
        correction=_("Change your email addresses, password and two-factor methods in your account settings."),
        correct_url="account_email",
        models=(
            "accounts.User",
            "account.EmailAddress",
            "account.EmailConfirmation",
            "mfa.Authenticator",
            "usersessions.UserSession",
        ),
        columns=(
            "email",
            "joined",
            "last_sign_in",
            "suspended_since",
            "email_addresses",
            "two_factor_methods",
            "sign_in_sessions",
        ),
        counts=_account_counts,
        sample=_account_sample,
        export=_account_export,
        erase=_account_erase,
        order=10,
    )
)


# --- Profile ----------------------------------------------------------------


def _profile_values(user: User) -> list[tuple[str, str]]:
    """(label, display value) of the filled fields, as /me/ shows them."""
    return [(str(row.label), row.value) for row in profile_rows(user=user) if row.value]


def _profile_counts(user: User) -> list[Count]:
    """The fields filled in, counted by the database (a field not given is stored empty,
    encrypted or not, and shows as "not given")."""
    filled = sum((Case(When(~Q(**{name: ""}), then=1), default=0) for name in Profile.EDITABLE_FIELDS), Value(0))
    profile = Profile.objects.filter(user=user).values(n=filled)
    return [Count(noun("field filled in", "fields filled in"), Scalar(profile))]


def _profile_sample(user: User) -> list[str]:
    return [f"{label}: {value}" for label, value in _profile_values(user)[:3]]


def _profile_export(user: User) -> list[dict]:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return []
    return [{name: getattr(profile, name) for name in Profile.EDITABLE_FIELDS}]


register(
    Category(
        key="profile",
        label=_("Profile"),
        description=_("Who you are and how to reach and bill you."),
        fields=(
            _("full name"),
            _("company"),
            _("postal address"),
            _("phone"),
            _("ID document type and number"),
            _("bank account (IBAN)"),
        ),
        purpose=_("To provide and bill the service, and to identify you when the law requires it."),
        legal_basis=_("Performance of our contract with you; legal obligation for the ID document"),
        retention=LIFE_OF_ACCOUNT,
        storage=_("Our PostgreSQL database, in EU data centres; ID number and IBAN encrypted"),
        processors=(HOSTING,),
        correction=_("Edit your profile yourself."),
        correct_url="me:profile_edit",
        models=("accounts.Profile",),
        columns=Profile.EDITABLE_FIELDS,
        counts=_profile_counts,
        sample=_profile_sample,
        export=_profile_export,
        erase=lambda user: erase_rows(noun("profile", "profiles"), Profile.objects.filter(user=user)),
        order=20,
    )
)


# --- Preferences ------------------------------------------------------------


def _preferences_export(user: User) -> list[dict]:
    return [
        {
            "service_improvement_emails": user.email_service_improvement,
            "deletion_notice_emails": user.email_deletion_notices,
            "language": user.language,
        }
    ]


def _preferences_sample(user: User) -> list[str]:
    yes, no = _("yes"), _("no")
    improvement, notices, language = _("Service-improvement emails"), _("Deletion notices"), _("Language")
    return [
        f"{improvement}: {yes if user.email_service_improvement else no}",
        f"{notices}: {yes if user.email_deletion_notices else no}",
        f"{language}: {user.get_language_display()}",
    ]


def _preferences_erase(user: User) -> ErasureResult:
    """Back to the defaults: no opt-in survives, nothing says what was chosen."""
    defaults = {name: User._meta.get_field(name).get_default() for name in PREFERENCE_FIELDS}
    User.objects.filter(pk=user.pk).update(**defaults)
    return ErasureResult(deleted={noun("preference", "preferences"): len(defaults)})


register(
    Category(
        key="preferences",
        label=_("Preferences"),
        description=_("Which emails you want from us, and your language."),
        fields=(_("service-improvement emails"), _("deletion-notice emails"), _("language")),
        purpose=_("To write to you only as you wish, in your language."),
        legal_basis=_("Your consent (service-improvement emails); our legitimate interest (the rest)"),
        retention=LIFE_OF_ACCOUNT,
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_("Change them on your preferences page."),
        correct_url="me:preferences",
        models=(),
        columns=("service_improvement_emails", "deletion_notice_emails", "language"),
        counts=lambda user: [Count(noun("setting", "settings"), 3)],
        sample=_preferences_sample,
        export=_preferences_export,
        erase=_preferences_erase,
        order=30,
    )
)


# --- Activity history -------------------------------------------------------


def _activity_export(user: User) -> list[dict]:
    """The history as /me/activity/ shows it: what a secret legal hold conceals for now
    stays out (`activity_for`), here as everywhere else."""
    return [
        {
            "when": e.created_at.isoformat(),
            "action": e.action,
            "category": e.category,
            "fields": e.fields,
            "by": e.actor_kind,
            "note": e.note,
        }
        for e in activity_for(user=user).order_by("created_at", "id").iterator()
    ]


def _activity_sample(user: User) -> list[str]:
    return [
        f"{moment_shown(e.created_at)} · {e.get_action_display()} · {category_label(e.category)}"
        for e in activity_for(user=user)[:3]
    ]


def _activity_erase(user: User) -> ErasureResult:
    """Every entry goes; the receipt counts those the customer could see (a secret
    hold's entries and the staff views it concealed are not told of here either)."""
    shown = activity_for(user=user).count()
    ActivityEvent.objects.filter(user=user).delete()
    return ErasureResult(deleted={noun("activity event", "activity events"): shown})


register(
    Category(
        key="activity",
        label=_("Activity history"),
        description=_("Every change to your data and every time our staff looked at it: what, by whom and when."),
        fields=(_("what happened"), _("who did it (you, staff, an automatic job)"), _("when")),
        purpose=_("So that you can check who did what with your data."),
        legal_basis=_("Legal obligation (accountability)"),
        retention=LIFE_OF_ACCOUNT,
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_("It is a record of facts and cannot be edited; ask us if something looks wrong."),
        correct_url="me:requests",
        models=("accounts.ActivityEvent",),
        columns=("when", "action", "category", "fields", "by", "note"),
        counts=lambda user: [Count(noun("event", "events"), activity_for(user=user))],
        sample=_activity_sample,
        export=_activity_export,
        erase=_activity_erase,
        order=70,
    )
)


# --- Data requests ----------------------------------------------------------


def _requests_export(user: User) -> list[dict]:
    return [
        {
            "reference": r.reference,
            "filed": r.created_at.isoformat(),
            "kind": r.kind,
            "about": r.category,
            "request": r.message,
            "status": r.status,
            "due": r.due_at.isoformat(),
            "extension_reason": r.extension_reason,
            "answer": r.answer,
            "answered": r.answered_at.isoformat() if r.answered_at else None,
        }
        for r in DataRequest.objects.filter(user=user).order_by("created_at")
    ]


def _requests_sample(user: User) -> list[str]:
    return [
        f"{r.reference} · {r.get_kind_display()} · {r.get_status_display()}"
        for r in DataRequest.objects.filter(user=user).order_by("-created_at")[:3]
    ]


def _requests_expire(now) -> dict[str, int]:
    """Answered requests go 12 months after their answer; each customer concerned
    finds it in their history and, unless they turned notices off, by email."""
    expired = DataRequest.objects.filter(
        status=DataRequest.Status.ANSWERED, answered_at__lt=add_months(now, -DATA_REQUEST_RETENTION_MONTHS)
    )
    user_ids = set(expired.values_list("user_id", flat=True))
    deleted, _by_model = expired.delete()
    for user in User.objects.filter(pk__in=user_ids):
        activity_record(
            user=user,
            action=ActivityEvent.Action.DELETED,
            category="data_requests",
            actor_kind=ActivityEvent.Actor.JOB,
        )
        deletion_notice_send(
            user=user, category="data_requests", fields=[_("requests answered more than 12 months ago")]
        )
    return {"data requests": deleted}


register(
    Category(
        key="data_requests",
        label=_("Data requests"),
        description=_("What you asked our staff about your data, and their answers."),
        fields=(_("your request"), _("our answer"), _("status and dates")),
        purpose=_("To answer you, within the time the law gives us."),
        legal_basis=_("Legal obligation (your rights over your data)"),
        retention=_("12 months after the request is answered."),
        storage=EU_DATABASE,
        processors=(HOSTING, EMAIL_PROVIDER),
        correction=_("File a new request if an answer needs a follow-up."),
        correct_url="me:requests",
        models=("accounts.DataRequest",),
        columns=(
            "reference",
            "filed",
            "kind",
            "about",
            "request",
            "status",
            "due",
            "extension_reason",
            "answer",
            "answered",
        ),
        counts=lambda user: [Count(noun("request", "requests"), DataRequest.objects.filter(user=user))],
        sample=_requests_sample,
        export=_requests_export,
        erase=lambda user: erase_rows(noun("data request", "data requests"), DataRequest.objects.filter(user=user)),
        expire=_requests_expire,
        order=90,
    )
)
