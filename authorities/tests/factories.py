"""Authority-request factories: requests opened through the service, as the admin opens
them, so their audit trail is the real one."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from authorities.models import AuthorityRequest
from authorities.services import authority_request_open
from compliance.models import Disclosure
from compliance.tests.factories import PrivacyOfficerFactory


class AuthorityRequestFactory(factory.django.DjangoModelFactory):
    """A police requisition received today, due in 15 days, the customers told in 30."""

    class Meta:
        model = AuthorityRequest

    authority = "Brigade de recherche de Paris"
    authority_kind = Disclosure.AuthorityKind.POLICE
    reference = factory.Sequence(lambda n: f"PV-2026-{n:05d}")
    legal_basis = "Article 60-1 of the code of criminal procedure"
    received_on = factory.LazyFunction(timezone.localdate)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=15))
    officer = factory.SubFactory(PrivacyOfficerFactory)
    notice_from = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    notes = ""

    @classmethod
    def _create(cls, model_class, *args, **values) -> AuthorityRequest:
        return authority_request_open(staff=values["officer"], **values)


def authority_request_answered(*, mac: str) -> AuthorityRequest:
    """A request answered and closed: a MAC address looked up over the last two days,
    approved by a second officer, the customers told from today, then closed (its
    holds lifted, its copies of the sessions gone; the disclosures stay)."""
    from authorities.services import approval_ask, lookup_run, request_close, request_decide

    request = AuthorityRequestFactory(notice_from=timezone.localdate())
    now = timezone.now()
    lookup_run(
        request=request, staff=request.officer, kind="mac", value=mac, starts_at=now - timedelta(days=2), ends_at=now
    )
    approval_ask(request=request, staff=request.officer)
    request_decide(request=request, staff=PrivacyOfficerFactory(), decision="approved", reason="In order")
    return request_close(request=request, staff=request.officer, reason="Answered")
