"""What this app plugs into the floors below it, at start-up (AuthoritiesConfig.ready):

- accounts.reasons: "Authority request #N" as the reason staff give for revealing a
  customer's data, for a request whose lookups matched that customer's sessions;
- compliance.request_counts: the requests decided in a period, by outcome (an
  approval counts as disclosed) and kind of authority, for the transparency report.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.reasons import ReferenceKind, reference_kind_register
from compliance.request_counts import request_counter_register

from .models import AuthorityRequest, LookupMatch

#: A decision as the transparency report counts it.
OUTCOME = {
    AuthorityRequest.Decision.APPROVED: "disclosed",
    AuthorityRequest.Decision.REFUSED: "refused",
    AuthorityRequest.Decision.CHALLENGED: "challenged",
}


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def authority_requests_count(start: date, end: date) -> dict[str, dict[str, int]]:
    """Requests decided on a local day in [start, end), by outcome and kind; a request
    decided again (approved after a challenge) counts once, with its last decision."""
    rows = (
        AuthorityRequest.objects.filter(decided_at__gte=_local_midnight(start), decided_at__lt=_local_midnight(end))
        .exclude(decision="")
        .values("decision", "authority_kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    counted: dict[str, dict[str, int]] = {}
    for row in rows:
        counted.setdefault(OUTCOME[row["decision"]], {})[row["authority_kind"]] = row["n"]
    return counted


def authority_requests_first_decided() -> date | None:
    """The local day of the earliest decision made on a request, or None."""
    first = AuthorityRequest.objects.exclude(decision="").aggregate(first=Min("decided_at"))["first"]
    return timezone.localdate(first) if first else None


def _request_concerns(user: User, number: int) -> bool:
    return LookupMatch.objects.filter(lookup__request_id=number, account_ref=user.pk).exists()


def connect() -> None:
    reference_kind_register(
        ReferenceKind(key="authority_request", label=_("Authority request #%(number)s"), check=_request_concerns)
    )
    request_counter_register(authority_requests_count, first_decided=authority_requests_first_decided)
