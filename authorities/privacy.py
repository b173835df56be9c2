"""Authority requests in the privacy registry.

What: the requests authorities send about a customer's data (authority, reference,
legal basis, what they asked for: an IP or MAC address, an email, a window) and, for
each, a copy of the sessions its lookups matched, as recorded. Why: the law obliges
us to answer lawful requests, and to be able to show what we disclosed, to whom and
on what basis. How long: the copies until the request is closed; the request and its
lookups as long as the record of the disclosures they led to.

While a customer may not know of a request (it is open, or its disclosure to them is
not visible yet), nothing here shows it to them, and what staff did on their record
since the request was opened stays out of their activity history.
"""

from __future__ import annotations

from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cloudportal.dates import day_shown
from cloudportal.privacy import EU_DATABASE, HOSTING, LEGAL_OBLIGATION, Category, Count, ErasureResult, noun, register
from compliance.privacy import ASK_IF_WRONG

from .models import AuthorityRequest, Lookup, LookupMatch


def _known_to(user: User) -> Q:
    """Requests the customer may know of: one of their disclosures is visible today."""
    today = timezone.localdate()
    return Q(disclosures__customer=user, disclosures__visible_from__lte=today)


def requests_known_to(*, user: User):
    return AuthorityRequest.objects.filter(_known_to(user)).distinct().order_by("-received_on", "-id")


def activity_concealed_since(*, user: User):
    """When the earliest request the customer may not know of yet was opened: an open
    request whose lookups matched their sessions, or one whose disclosure to them is
    not visible yet. None when there is none."""
    today = timezone.localdate()
    known = requests_known_to(user=user).values("pk")
    pending = Q(closed_at__isnull=True, lookups__matches__account_ref=user.pk) & ~Q(pk__in=known)
    pending |= Q(disclosures__customer=user, disclosures__visible_from__isnull=True)
    pending |= Q(disclosures__customer=user, disclosures__visible_from__gt=today)
    return AuthorityRequest.objects.filter(pending).aggregate(since=Min("created_at"))["since"]


def _export(user: User) -> list[dict]:
    rows = []
    for request in requests_known_to(user=user):
        matches = LookupMatch.objects.filter(lookup__request=request, account_ref=user.pk)
        rows.append(
            {
                "authority": request.authority,
                "kind_of_authority": request.get_authority_kind_display(),
                "reference": request.reference,
                "legal_basis": request.legal_basis,
                "received_on": request.received_on.isoformat(),
                "decision": request.get_decision_display(),
                "your_sessions_matched": matches.count(),
            }
        )
    return rows


def _erase(user: User) -> ErasureResult:
    """The request is the authority's and stays; the copies of the customer's sessions
    lose the account and its email (the number stays, as the erasure ledger's), and
    a lookup of one of the customer's addresses forgets it."""
    known = requests_known_to(user=user).count()
    matches = LookupMatch.objects.filter(account_ref=user.pk)
    addresses = {user.email.lower(), *(e.lower() for e in matches.exclude(email="").values_list("email", flat=True))}
    for address in addresses:
        Lookup.objects.filter(kind=Lookup.Kind.ACCOUNT, email__iexact=address).update(email="")
    detached = matches.update(account=None, email="")
    return ErasureResult(
        deleted={noun("email in copies of your sessions", "emails in copies of your sessions"): detached},
        kept={noun("authority request", "authority requests"): known},
        kept_reason=_("the record of an authority's request and what it asked for, without your account"),
    )


register(
    Category(
        key="authority_requests",
        label=_("Authority requests"),
        description=_(
            "Requests from authorities that concerned your data: who asked, on what legal basis, what they asked "
            "for, and a copy of the sessions that matched, shown here once we may tell you."
        ),
        fields=(
            _("authority, reference and legal basis"),
            _("what was looked up (an IP address, a MAC address or your email, and dates)"),
            _("copies of the sessions that matched, as recorded"),
        ),
        purpose=_("To answer lawful requests from authorities, and to show what we disclosed, to whom and why."),
        legal_basis=LEGAL_OBLIGATION,
        retention=_(
            "The copies of the matched sessions until the request is closed; the request itself as long as "
            "the law requires us to keep the record of the disclosure."
        ),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=ASK_IF_WRONG,
        correct_url="me:requests",
        models=(
            "authorities.AuthorityRequest",
            "authorities.RequestEvent",
            "authorities.Lookup",
            "authorities.LookupMatch",
            "authorities.DisclosurePackage",
        ),
        counts=lambda user: [Count(noun("authority request", "authority requests"), requests_known_to(user=user))],
        sample=lambda user: [
            f"{day_shown(r.received_on)} · {r.get_authority_kind_display()}" for r in requests_known_to(user=user)[:3]
        ],
        columns=(
            "authority",
            "kind_of_authority",
            "reference",
            "legal_basis",
            "received_on",
            "decision",
            "your_sessions_matched",
        ),
        export=_export,
        erase=_erase,
        conceals_activity=lambda user: activity_concealed_since(user=user),
        order=58,  # before disclosures: their erase detaches the disclosures this reads
    )
)
