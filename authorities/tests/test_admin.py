"""The authority-request screens: Privacy officers only (Support gets 403 on every URL),
bad input a 4xx with its message and nothing written, masked results until approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.groups import SUPPORT
from accounts.tests.factories import StaffUserFactory
from authorities.models import AuthorityRequest, DisclosurePackage, Lookup
from compliance.tests.factories import PrivacyOfficerFactory

from .conftest import MAC_A

pytestmark = pytest.mark.django_db


def _urls(request: AuthorityRequest) -> list[str]:
    """Every URL of the authority-request admin, for this request."""
    lookup = request.lookups.first()
    package = DisclosurePackage.objects.create(request=request, file_name="x.zip")
    args = {"pk": request.pk, "object_id": request.pk, "lookup_pk": lookup.pk, "package_pk": package.pk, "kind": "ip"}
    urls = []
    for pattern in admin.site._registry[AuthorityRequest].get_urls():
        if not pattern.name:
            continue
        wanted = {name: args[name] for name in pattern.pattern.regex.groupindex}
        urls.append(reverse(f"admin:{pattern.name}", kwargs=wanted))
    urls += [
        reverse("admin:authorities_disclosurepackage_changelist"),
        reverse("admin:authorities_disclosurepackage_change", args=[package.pk]),
    ]
    return urls


def test_support_gets_403_on_every_authority_request_url(client, world):
    support = StaffUserFactory()
    support.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(support)
    urls = _urls(world["request"])
    assert len(urls) >= 12
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"reason": "x", "decision": "approved", "value": "1.2.3.4"}).status_code == 403, url
    assert AuthorityRequest.objects.get().status == AuthorityRequest.Status.AWAITING
    index = client.get(reverse("admin:index")).content.decode()
    assert "Authority requests" not in index


def test_an_officer_opens_a_request_and_a_too_long_ip_window_is_a_400_with_its_message(client, settings):
    settings.AUTHORITY_IP_WINDOW_MAX_DAYS = 31
    officer = PrivacyOfficerFactory()
    client.force_login(officer)
    today = timezone.localdate()
    values = {
        "authority": "Parquet de Lyon",
        "authority_kind": "court",
        "reference": "P-26-118",
        "legal_basis": "Article 77-1-1 of the code of criminal procedure",
        "received_on": today.isoformat(),
        "due_on": (today - timedelta(days=1)).isoformat(),
        "officer": officer.pk,
    }
    response = client.post(reverse("admin:authorities_authorityrequest_add"), values)
    body = response.content.decode()
    assert response.status_code == 200 and "cannot come before the day the request was received" in body
    assert not AuthorityRequest.objects.exists()
    values["due_on"] = (today + timedelta(days=10)).isoformat()
    response = client.post(reverse("admin:authorities_authorityrequest_add"), values)
    assert response.status_code == 302, response.content.decode()[-3000:]
    request = AuthorityRequest.objects.get()
    assert [e.action for e in request.events.all()] == ["opened"]

    url = reverse("admin:authorities_authorityrequest_lookup", args=[request.pk, "ip"])
    now = timezone.localtime()
    response = client.post(
        url,
        {
            "value": "203.0.113.7",
            "starts_at": (now - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": now.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "A lookup of this kind covers at most 31 days" in response.content.decode()
    response = client.post(url, {"value": "203.0.113.7"})
    assert response.status_code == 400 and "Give the instant, or the start and end" in response.content.decode()
    assert not Lookup.objects.exists()

    response = client.post(url, {"value": "203.0.113.7", "at": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert Lookup.objects.get().is_instant


def test_results_are_masked_until_approval(client, world):
    request = world["request"]
    officer = PrivacyOfficerFactory()
    client.force_login(officer)
    lookup = request.lookups.get(kind="mac")
    url = reverse("admin:authorities_authorityrequest_results", args=[request.pk, lookup.pk])
    body = client.get(url).content.decode()
    assert 'data-results="masked"' in body and "2 sessions matched" in body
    start = body.index('id="result_list"')
    table = body[start : body.index("</table>", start)]
    assert "alice@example.com" not in table and "a•••@e•••.com" in table
    assert MAC_A not in table and "3C:22:FB:•••" in table and "192.0.2.•••" in table
    assert client.post(url, {"reason": "Curious"}).status_code == 403  # not approved yet

    # The preparer cannot decide: a 403 with the reason, nothing written.
    client.force_login(request.officer)
    response = client.post(
        reverse("admin:authorities_authorityrequest_decide", args=[request.pk]),
        {"decision": "approved", "reason": "Fine"},
    )
    assert response.status_code == 403 and "another Privacy officer must decide it" in response.content.decode()
    client.force_login(officer)
    response = client.post(
        reverse("admin:authorities_authorityrequest_decide", args=[request.pk]),
        {"decision": "approved", "reason": "Requisition in order"},
    )
    assert response.status_code == 302
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    response = client.post(url, {"reason": "Preparing the answer"})
    body = response.content.decode()
    assert response.status_code == 200 and 'data-results="clear"' in body and "alice@example.com" in body


def test_the_screens_and_emails_speak_french(client, world, mailoutbox, django_capture_on_commit_callbacks):
    request = world["request"]
    officer = PrivacyOfficerFactory(language="fr")
    client.force_login(officer)
    client.cookies["cloudportal_language"] = "fr"
    body = client.get(reverse("admin:authorities_authorityrequest_change", args=[request.pk])).content.decode()
    assert "Décider (second délégué)" in body and "Clore la demande" in body
    lookup = request.lookups.get(kind="mac")
    body = client.get(reverse("admin:authorities_authorityrequest_results", args=[request.pk, lookup.pk])).content
    assert "2 sessions trouvées" in body.decode() and "Masqué\u00a0:" in body.decode()
    # The approval request went to the other officers, each in their language.
    from authorities.services import approval_ask, approval_withdraw

    approval_withdraw(request=request, staff=request.officer)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approval_ask(request=request, staff=request.officer)
    [french] = [m for m in mailoutbox if m.to == [officer.email]]
    assert french.subject.endswith(f"Une demande d’autorité attend votre approbation\u00a0: {request.reference}")
    assert "Décidez-en dans l’interface d’administration" in french.body and french.alternatives


def test_an_authority_request_is_a_reason_to_reveal_only_for_a_customer_it_matched(client, world):
    from accounts.models import ActivityEvent, Profile
    from accounts.services import profile_update

    request, alice = world["request"], world["alice"]
    stranger = world["bob"].__class__.objects.create_user(email="stranger@example.com")
    for user in (alice, stranger):
        profile_update(user=user, actor=user, data={"iban": "FR1420041010050500013M02606"})
    client.force_login(PrivacyOfficerFactory())
    cite = {"reason": "", "reference_kind": "authority_request", "reference_number": request.pk}
    stranger_profile = Profile.objects.get(user=stranger)
    response = client.post(reverse("admin:accounts_profile_reveal", args=[stranger_profile.pk]), cite)
    assert response.status_code == 400 and "no such record for this customer" in response.content.decode()
    alice_profile = Profile.objects.get(user=alice)
    response = client.post(reverse("admin:accounts_profile_reveal", args=[alice_profile.pk]), cite)
    assert response.status_code == 302
    assert ActivityEvent.objects.filter(user=alice, note=f"Authority request #{request.pk}").exists()
