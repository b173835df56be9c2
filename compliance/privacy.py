"""Disclosures and legal holds in the privacy registry.

Both are kept when the account is erased, as the law requires: a disclosure record
loses the link to the account, a hold keeps holding the former account's sessions.
A hold that forbids notice is left out of everything here while it is in force."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from cloudportal.dates import day_shown
from cloudportal.privacy import (
    EU_DATABASE,
    HOSTING,
    LEGAL_OBLIGATION,
    Category,
    Count,
    ErasureResult,
    lazy_text,
    noun,
    register,
)

from .models import Disclosure
from .selectors import activity_concealed_since, disclosures_for, holds_visible_to

ASK_IF_WRONG = _("Ask us through Requests if an entry looks wrong.")


def _disclosures_export(user: User) -> list[dict]:
    return [
        {
            "disclosed_on": d.disclosed_on.isoformat(),
            "disclosed_to": d.recipient,
            "kind_of_authority": d.get_authority_kind_display(),
            "what": d.data_disclosed,
            "legal_basis": d.legal_basis,
        }
        for d in disclosures_for(user=user)
    ]


def _disclosures_erase(user: User) -> ErasureResult:
    visible = disclosures_for(user=user).count()
    Disclosure.objects.filter(customer=user).update(customer=None)
    return ErasureResult(
        kept={noun("disclosure", "disclosures"): visible},
        kept_reason=_("the record of what was disclosed to an authority, without your account, as the law requires"),
    )


register(
    Category(
        key="disclosures",
        label=_("Disclosures"),
        description=_("Each time the law made us disclose some of your data to an authority: what, to whom and why."),
        fields=(_("what was disclosed"), _("to whom"), _("on what legal basis"), _("when")),
        purpose=_("To show that we disclose your data only when the law requires it, and to tell you when we may."),
        legal_basis=LEGAL_OBLIGATION,
        retention=_("As long as the law requires us to keep the record."),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=ASK_IF_WRONG,
        correct_url="me:requests",
        models=("compliance.Disclosure",),
        columns=("disclosed_on", "disclosed_to", "kind_of_authority", "what", "legal_basis"),
        counts=lambda user: [Count(noun("disclosure", "disclosures"), disclosures_for(user=user))],
        sample=lambda user: [
            f"{day_shown(d.disclosed_on)} · {d.get_authority_kind_display()}" for d in disclosures_for(user=user)[:3]
        ],
        export=_disclosures_export,
        erase=_disclosures_erase,
        order=60,
    )
)


def _holds_export(user: User) -> list[dict]:
    now = timezone.now()
    return [
        {
            "placed": h.created_at.isoformat(),
            "authority": h.authority,
            "reference": h.reference,
            "sessions_from": h.starts_at.isoformat(),
            "sessions_to": h.ends_at.isoformat() if h.ends_at else None,
            "in_force": h.is_active(now),
        }
        for h in holds_visible_to(user=user, now=now)
    ]


def _holds_erase(user: User) -> ErasureResult:
    """Holds outlive the account: they are orders to keep its sessions."""
    return ErasureResult(
        kept={noun("legal hold", "legal holds"): holds_visible_to(user=user).count()},
        kept_reason=_("a legal hold is an order to keep your sessions; it lasts until the authority lifts it"),
    )


register(
    Category(
        key="legal_holds",
        label=_("Legal holds"),
        description=lazy_text(
            lambda: (
                ngettext(
                    "Orders from an authority to keep some of your sessions past their %(months)s month, "
                    "when we may tell you.",
                    "Orders from an authority to keep some of your sessions past their %(months)s months, "
                    "when we may tell you.",
                    settings.ACCESS_LOG_RETENTION_MONTHS,
                )
                % {"months": settings.ACCESS_LOG_RETENTION_MONTHS}
            )
        ),
        fields=(_("authority and reference"), _("which sessions"), _("dates")),
        purpose=_("To keep the sessions an authority needs, and only those, for as long as it needs them."),
        legal_basis=LEGAL_OBLIGATION,
        retention=_("Until the authority lifts the hold or it expires."),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=ASK_IF_WRONG,
        correct_url="me:requests",
        models=("compliance.LegalHold", "compliance.LegalHoldEvent"),
        columns=("placed", "authority", "reference", "sessions_from", "sessions_to", "in_force"),
        counts=lambda user: [Count(noun("legal hold", "legal holds"), holds_visible_to(user=user))],
        sample=lambda user: [f"{day_shown(h.created_at)} · {h.authority}" for h in holds_visible_to(user=user)[:3]],
        export=_holds_export,
        erase=_holds_erase,
        conceals_activity=lambda user: activity_concealed_since(user=user),
        order=55,
    )
)
