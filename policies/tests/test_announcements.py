"""Service-improvement announcements: only to customers who opted in, each with a
one-click unsubscribe (RFC 8058) that works without signing in, for its customer only."""

import re

import pytest
from django.urls import reverse

from accounts.models import ActivityEvent, User
from accounts.tests.factories import VerifiedUserFactory
from policies.models import Announcement
from policies.services import announcement_emails_queue, announcement_send, unsubscribe_token

pytestmark = pytest.mark.django_db


def test_an_announcement_goes_only_to_customers_who_opted_in_with_unsubscribe_headers(
    smtp_server, django_capture_on_commit_callbacks
):
    keen = VerifiedUserFactory(email_service_improvement=True)
    VerifiedUserFactory(email_service_improvement=False)
    announcement = Announcement.objects.create(subject="Faster Wi-Fi at Lyon", body="We **doubled** the speed.")

    with django_capture_on_commit_callbacks(execute=True):
        announcement_send(announcement=announcement)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == keen.email and message["Subject"].endswith("Faster Wi-Fi at Lyon")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", message["List-Unsubscribe"]
    url = re.search(r"<(\S+)>", str(message["List-Unsubscribe"])).group(1)
    text, html = smtp_server.parts(message)
    assert url in text and "<strong>doubled</strong>" in html
    assert Announcement.objects.get(pk=announcement.pk).recipients == 1
    # Sending again, or the task running twice, writes to nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        announcement_send(announcement=announcement)
        assert announcement_emails_queue(announcement_id=announcement.pk) == 1
    assert len(smtp_server.received()) == 1


def test_one_click_unsubscribe_works_without_signing_in_for_its_customer_only(client):
    alice = VerifiedUserFactory(email_service_improvement=True)
    bob = VerifiedUserFactory(email_service_improvement=True)
    url = reverse("privacy_unsubscribe", args=[unsubscribe_token(user=alice)])

    # Opening the link (a mail scanner, a preview) changes nothing.
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    assert User.objects.get(pk=alice.pk).email_service_improvement

    # The mail client's one-click POST (RFC 8058), without a session or CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert User.objects.get(pk=alice.pk).email_service_improvement is False
    assert User.objects.get(pk=bob.pk).email_service_improvement is True
    assert ActivityEvent.objects.filter(user=alice, category="preferences").exists()


def test_a_forged_or_altered_unsubscribe_token_changes_nobody(client):
    alice = VerifiedUserFactory(email_service_improvement=True)
    token = unsubscribe_token(user=alice)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "1", f"{alice.pk}"):
        response = client.post(reverse("privacy_unsubscribe", args=[bad]))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert User.objects.get(pk=alice.pk).email_service_improvement is True
