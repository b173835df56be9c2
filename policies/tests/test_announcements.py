"""Service-improvement announcements: only to customers who opted in, each with a
one-click unsubscribe (RFC 8058) that works without signing in, for its customer only."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import ActivityEvent, User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from policies.models import Announcement
from policies.services import announcement_emails_queue, announcement_send, unsubscribe_token

pytestmark = pytest.mark.django_db


def test_an_announcement_goes_only_to_customers_who_opted_in_in_their_language_with_unsubscribe_headers(
    smtp_server, django_capture_on_commit_callbacks
):
    keen = VerifiedUserFactory(email_service_improvement=True)
    keen_fr = VerifiedUserFactory(email_service_improvement=True, language="fr")
    VerifiedUserFactory(email_service_improvement=False)
    announcement = Announcement.objects.create(
        subject="Faster Wi-Fi at Lyon",
        body="We **doubled** the speed.",
        subject_fr="Un Wi-Fi plus rapide à Lyon",
        body_fr="Nous avons **doublé** le débit.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        announcement_send(announcement=announcement)

    messages = {str(m["To"]): m for m in smtp_server.wait_for(2)}
    message = messages[keen.email]
    assert message["Subject"].endswith("Faster Wi-Fi at Lyon")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", message["List-Unsubscribe"]
    url = re.search(r"<(\S+)>", str(message["List-Unsubscribe"])).group(1)
    text, html = smtp_server.parts(message)
    assert url in text and "<strong>doubled</strong>" in html
    french = messages[keen_fr.email]
    assert french["Subject"].endswith("Un Wi-Fi plus rapide à Lyon")
    text, html = smtp_server.parts(french)
    assert "Nous avons **doublé** le débit." in text and "<strong>doublé</strong>" in html
    assert "doubled" not in text + html
    assert Announcement.objects.get(pk=announcement.pk).recipients == 2
    # Sending again, or the task running twice, writes to nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        announcement_send(announcement=announcement)
        assert announcement_emails_queue(announcement_id=announcement.pk) == 2
    assert len(smtp_server.received()) == 2


def test_an_announcement_without_its_french_text_is_not_sent(client, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    from accounts.groups import PRIVACY_OFFICER
    from accounts.tests.factories import StaffUserFactory

    VerifiedUserFactory(email_service_improvement=True)
    announcement = Announcement.objects.create(subject="Faster Wi-Fi", body="Twice as fast.", subject_fr="Plus rapide")
    with pytest.raises(ValidationError) as error:
        announcement_send(announcement=announcement)
    assert "message in French" in str(error.value)

    officer = StaffUserFactory()
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:policies_announcement_changelist"),
            {"action": "send", "_selected_action": [announcement.pk]},
            follow=True,
        )
    assert "Write the announcement in English and in French before sending it." in response.content.decode()
    assert Announcement.objects.get(pk=announcement.pk).sent_at is None
    assert not OutboundEmail.objects.filter(template="emails/announcement").exists()


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
