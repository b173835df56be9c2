"""The record of emails sent to a customer, in the privacy registry."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cloudportal.dates import day_shown
from cloudportal.privacy import (
    EMAIL_PROVIDER,
    EU_DATABASE,
    HOSTING,
    LIFE_OF_ACCOUNT,
    Category,
    Count,
    ErasureResult,
    noun,
    register,
)

from .models import OutboundEmail


def _emails_export(user) -> list[dict]:
    return [
        {
            "to": e.to,
            "subject": e.subject,
            "status": e.status,
            "queued": e.created_at.isoformat(),
            "sent": e.sent_at.isoformat() if e.sent_at else None,
        }
        for e in OutboundEmail.objects.filter(user=user).order_by("created_at").iterator()
    ]


def _emails_sample(user) -> list[str]:
    return [
        f"{day_shown(e.created_at)} · {e.subject}"
        for e in OutboundEmail.objects.filter(user=user).order_by("-created_at")[:3]
    ]


def _emails_erase(user) -> ErasureResult:
    """The record of sent emails goes, with any sent to one of the customer's
    addresses before it was linked to the account. A message still waiting to go out
    (the deletion confirmation among them) is detached instead: it is delivered, then
    its recipient is cleared."""
    from allauth.account.models import EmailAddress

    addresses = {
        user.email.lower(),
        *(e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)),
    }
    mine = OutboundEmail.objects.filter(Q(user=user) | Q(user__isnull=True, to__in=addresses))
    pending = mine.filter(status=OutboundEmail.Status.PENDING).update(user=None, forget_recipient=True)
    count, _by_model = mine.exclude(status=OutboundEmail.Status.PENDING).delete()
    return ErasureResult(deleted={noun("email", "emails"): count + pending})


register(
    Category(
        key="emails",
        label=_("Emails we sent you"),
        description=_(
            "A record of the emails we sent you: address, subject and when. The message itself is "
            "deleted once it has been delivered."
        ),
        fields=(_("recipient address"), _("subject"), _("dates and delivery status")),
        purpose=_("To deliver our messages reliably and to show that we kept you informed."),
        legal_basis=_("Legal obligation (notices about your data); performance of our contract"),
        retention=LIFE_OF_ACCOUNT,
        storage=EU_DATABASE,
        processors=(HOSTING, EMAIL_PROVIDER),
        correction=_("Change the address we write to in your account settings."),
        correct_url="account_email",
        models=("core.OutboundEmail",),
        columns=("to", "subject", "status", "queued", "sent"),
        counts=lambda user: [Count(noun("email", "emails"), OutboundEmail.objects.filter(user=user))],
        sample=_emails_sample,
        export=_emails_export,
        erase=_emails_erase,
        order=80,
    )
)
