"""Account deletion requests in the privacy registry."""

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cloudportal.dates import day_shown
from cloudportal.privacy import EU_DATABASE, HOSTING, Category, Count, erase_rows, noun, register

from .models import ErasureRequest


def _requests_export(user: User) -> list[dict]:
    return [
        {
            "asked": r.requested_at.isoformat(),
            "erase_after": r.erase_after.isoformat(),
            "status": r.status,
            "cancelled": r.cancelled_at.isoformat() if r.cancelled_at else None,
        }
        for r in ErasureRequest.objects.filter(user=user).order_by("requested_at")
    ]


register(
    Category(
        key="account_deletion",
        label=_("Account deletion requests"),
        description=_("When you asked us to delete your account, and whether you cancelled."),
        fields=(_("when you asked"), _("when the account is erased"), _("whether you cancelled")),
        purpose=_("To erase your account when you ask, and let you change your mind during the grace period."),
        legal_basis=_("Legal obligation (your right to erasure)"),
        retention=_(
            "Until the account is erased; then only a record without personal data that it was, "
            "so that a restored backup cannot bring it back."
        ),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_("Use the link in the confirmation email to cancel a deletion."),
        models=("erasure.ErasureRequest",),
        columns=("asked", "erase_after", "status", "cancelled"),
        counts=lambda user: [Count(noun("request", "requests"), ErasureRequest.objects.filter(user=user))],
        sample=lambda user: [
            f"{day_shown(r.requested_at)} · {r.get_status_display()}"
            for r in ErasureRequest.objects.filter(user=user).order_by("-requested_at")[:3]
        ],
        export=_requests_export,
        erase=lambda user: erase_rows(
            noun("deletion request", "deletion requests"), ErasureRequest.objects.filter(user=user)
        ),
        order=95,
    )
)
