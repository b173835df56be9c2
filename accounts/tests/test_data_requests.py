"""Data requests: filed by the customer, worked by staff in the admin, answered by email."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.data_requests import data_request_file, data_requests_remind
from accounts.groups import SUPPORT
from accounts.models import DataRequest
from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory
from cloudportal.months import add_months

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    return staff


def test_customer_files_a_request_with_a_one_month_due_date(client):
    customer = VerifiedUserFactory()
    client.force_login(customer)
    response = client.post(
        reverse("me:requests"), {"kind": "correction", "category": "profile", "message": "My name is misspelt."}
    )
    assert response.status_code == 302
    request = DataRequest.objects.get(user=customer)
    assert request.status == "open"
    assert request.due_at.date() == add_months(request.created_at, 1).date()
    page = client.get(reverse("me:requests")).content.decode()
    assert "My name is misspelt." in page


def test_an_empty_request_is_refused(client):
    customer = VerifiedUserFactory()
    client.force_login(customer)
    response = client.post(reverse("me:requests"), {"kind": "nonsense", "message": "  "})
    assert response.status_code == 400
    assert not DataRequest.objects.exists()


def test_answer_in_the_admin_reaches_the_customer_by_email_and_on_the_page(
    client, support, smtp_server, django_capture_on_commit_callbacks
):
    customer = VerifiedUserFactory(language="fr")
    data_request = data_request_file(user=customer, kind="information", message="How do you use my sessions?")
    client.force_login(support)
    url = reverse("admin:accounts_datarequest_change", args=[data_request.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "assigned_to": support.pk,
                "status": "answered",
                "extension_reason": "",
                "extend_to": "",
                "answer": "Only to answer lawful requests; they are erased after 12 months.",
            },
        )
    assert response.status_code == 302
    data_request.refresh_from_db()
    assert data_request.status == "answered" and data_request.answered_by == support

    (message,) = smtp_server.wait_for(1, to=customer.email)
    text, html = smtp_server.parts(message)
    assert "erased after 12 months" in text and "erased after 12 months" in html
    assert message["Subject"].endswith("Nous avons répondu à votre demande")

    client.force_login(customer)
    page = client.get(reverse("me:requests")).content.decode()
    assert "erased after 12 months" in page


def test_answering_without_text_is_refused(client, support):
    data_request = data_request_file(user=VerifiedUserFactory(), kind="information", message="?")
    client.force_login(support)
    url = reverse("admin:accounts_datarequest_change", args=[data_request.pk])
    response = client.post(url, {"assigned_to": "", "status": "answered", "answer": "", "extend_to": ""})
    assert response.status_code == 200
    data_request.refresh_from_db()
    assert data_request.status == "open"


def test_extension_needs_a_reason_is_capped_at_two_months_and_is_told(
    client, support, smtp_server, django_capture_on_commit_callbacks
):
    customer = VerifiedUserFactory()
    data_request = data_request_file(user=customer, kind="correction", message="Fix my address")
    client.force_login(support)
    url = reverse("admin:accounts_datarequest_change", args=[data_request.pk])
    later = (data_request.due_at + timedelta(days=30)).date().isoformat()
    too_late = (data_request.due_at + timedelta(days=70)).date().isoformat()
    base = {"assigned_to": "", "status": "open", "answer": ""}

    response = client.post(url, {**base, "extend_to": later, "extension_reason": ""})
    assert response.status_code == 200
    response = client.post(url, {**base, "extend_to": too_late, "extension_reason": "Complex"})
    assert response.status_code == 200 and "two months at most" in response.content.decode()
    data_request.refresh_from_db()
    assert data_request.extended_at is None

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {**base, "extend_to": later, "extension_reason": "We must check with the registry."}
        )
    assert response.status_code == 302
    data_request.refresh_from_db()
    assert data_request.due_at.date().isoformat() == later
    (message,) = smtp_server.wait_for(1, to=customer.email)
    assert "We must check with the registry." in smtp_server.parts(message)[0]


def test_overdue_requests_are_flagged_to_staff(client, support, smtp_server, django_capture_on_commit_callbacks):
    overdue = data_request_file(user=VerifiedUserFactory(), kind="information", message="Old one")
    DataRequest.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(days=2))
    fresh = data_request_file(user=VerifiedUserFactory(), kind="information", message="New one")

    client.force_login(support)
    listing = client.get(reverse("admin:accounts_datarequest_changelist"), {"due": "overdue"}).content.decode()
    assert "OVERDUE" in listing
    assert f"/{overdue.pk}/change/" in listing and f"/{fresh.pk}/change/" not in listing

    with django_capture_on_commit_callbacks(execute=True):
        assert data_requests_remind() == 1
    (message,) = smtp_server.wait_for(1, to=support.email)
    text, html = smtp_server.parts(message)
    assert overdue.reference in text and "OVERDUE" in text and "OVERDUE" in html
    assert fresh.reference not in text
    # Reminded at most once a day.
    assert data_requests_remind() == 0


def test_another_customers_request_is_never_shown(client):
    data_request_file(user=VerifiedUserFactory(), kind="information", message="Private question")
    client.force_login(VerifiedUserFactory())
    assert "Private question" not in client.get(reverse("me:requests")).content.decode()


# --- The rights the statement names, in words, with a reference and an acknowledgement


RIGHTS = {"access", "correction", "erasure", "restriction", "objection", "portability", "information"}


def test_the_request_kinds_cover_every_right_and_each_can_be_filed(client):
    customer = VerifiedUserFactory()
    client.force_login(customer)
    page = client.get(reverse("me:requests")).content.decode()
    offered = set(re.findall(r'name="kind" value="([a-z_]+)"', page))
    assert offered == RIGHTS
    for kind in sorted(RIGHTS):
        response = client.post(reverse("me:requests"), {"kind": kind, "category": "", "message": f"About {kind}"})
        assert response.status_code == 302, kind
    assert set(DataRequest.objects.filter(user=customer).values_list("kind", flat=True)) == RIGHTS


def test_the_category_is_shown_in_words_to_the_customer_and_to_staff(client, support):
    customer = VerifiedUserFactory()
    data_request = data_request_file(user=customer, kind="correction", category="access_logs", message="Wrong site")
    client.force_login(customer)
    page = client.get(reverse("me:requests")).content.decode()
    card = page[page.index(f'id="request-{data_request.pk}"') :].split("</li>")[0]
    assert "Access logs" in card and "access_logs" not in card
    client.force_login(support)
    change = client.get(reverse("admin:accounts_datarequest_change", args=[data_request.pk])).content.decode()
    assert "Access logs" in change and "access_logs" not in change
    listing = client.get(reverse("admin:accounts_datarequest_changelist")).content.decode()
    assert "Access logs" in listing and ">access_logs<" not in listing


def test_the_activity_admin_filters_categories_by_name(client):
    """The admin's category filter of the activity history named registry keys."""
    from accounts.services import activity_record
    from accounts.tests.factories import SuperuserFactory

    customer = VerifiedUserFactory()
    activity_record(user=customer, action="viewed", category="access_logs", actor_kind="job")
    client.force_login(SuperuserFactory())
    listing = client.get(reverse("admin:accounts_activityevent_changelist")).content.decode()
    assert "Access logs" in listing and ">access_logs<" not in listing


def test_each_request_has_a_stable_reference_shown_to_the_customer_and_to_staff(client, support):
    customer = VerifiedUserFactory()
    data_request = data_request_file(user=customer, kind="access", message="What do you hold?")
    year = timezone.localtime(data_request.created_at).year
    assert data_request.reference == f"DR-{year}-{data_request.pk:06d}"
    DataRequest.objects.filter(pk=data_request.pk).update(created_at=data_request.created_at.replace(year=year - 3))
    data_request.refresh_from_db()
    assert data_request.reference == f"DR-{year}-{data_request.pk:06d}"  # stored: it never changes
    client.force_login(customer)
    assert data_request.reference in client.get(reverse("me:requests")).content.decode()
    client.force_login(support)
    found = client.get(reverse("admin:accounts_datarequest_changelist"), {"q": data_request.reference})
    assert data_request.reference in found.content.decode()
    assert f"/{data_request.pk}/change/" in found.content.decode()


def test_filing_acknowledges_in_the_customers_language_and_alerts_staff_at_once(
    client, support, smtp_server, django_capture_on_commit_callbacks
):
    officer = StaffUserFactory(language="fr")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    StaffUserFactory()  # staff in no group: not alerted
    customer = VerifiedUserFactory(language="fr")
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("me:requests"),
            {"kind": "restriction", "category": "access_logs", "message": "Do not use my sessions for statistics."},
        )
    assert response.status_code == 302
    data_request = DataRequest.objects.get(user=customer)

    (ack,) = smtp_server.wait_for(1, to=customer.email)
    text, html = smtp_server.parts(ack)
    assert (
        data_request.reference in ack["Subject"] and data_request.reference in text and data_request.reference in html
    )
    assert "Limiter l’utilisation de mes données" in text and "Journaux d’accès" in text
    assert "Do not use my sessions for statistics." in text
    assert f"{data_request.due_at:%Y}" in text

    (alert,) = smtp_server.wait_for(1, to=support.email)
    text, html = smtp_server.parts(alert)
    assert data_request.reference in alert["Subject"] and data_request.reference in text
    assert "Restrict how you use my data" in text and "Access logs" in text
    assert f"/admin/accounts/datarequest/{data_request.pk}/change/" in text and "/change/" in html
    (alert_fr,) = smtp_server.wait_for(1, to=officer.email)
    assert "Journaux d’accès" in smtp_server.parts(alert_fr)[0]
    assert {str(m["To"]).rsplit(" ", 1)[-1].strip("<>") for m in smtp_server.received()} == {
        customer.email,
        support.email,
        officer.email,
    }


def test_an_assignee_is_alerted_when_a_colleague_assigns_them(
    client, support, smtp_server, django_capture_on_commit_callbacks
):
    colleague = StaffUserFactory()
    colleague.groups.add(Group.objects.get(name=SUPPORT))
    data_request = data_request_file(user=VerifiedUserFactory(), kind="objection", message="No marketing")
    client.force_login(support)
    url = reverse("admin:accounts_datarequest_change", args=[data_request.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"assigned_to": colleague.pk, "status": "in_progress", "extension_reason": "", "answer": ""}
        )
    assert response.status_code == 302
    (alert,) = smtp_server.wait_for(1, to=colleague.email)
    assert data_request.reference in smtp_server.parts(alert)[0]
    assert not smtp_server.received(to=support.email)
