"""Sign-in sessions: each named by browser and system with its last activity, and
ended one at a time (or all the others), only ever the customer's own."""

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ActivityEvent
from accounts.signin_sessions import client_describe

from .factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:141.0) Gecko/20100101 Firefox/141.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def signed_in(user, user_agent: str) -> Client:
    """A browser signed in as `user`, its sign-in session recorded by a first page."""
    browser = Client(headers={"user-agent": user_agent})
    browser.force_login(user)
    assert browser.get(reverse("home")).status_code == 200
    return browser


def session_of(user, user_agent: str) -> UserSession:
    return UserSession.objects.get(user=user, user_agent=user_agent)


@pytest.mark.parametrize(
    ("user_agent", "name", "device"),
    [
        (FIREFOX_WINDOWS, "Firefox 141 on Windows 10", ""),
        (SAFARI_IPHONE, "Mobile Safari 17 on iOS 17.4", "iPhone"),
        ("curl/8.5.0", "curl 8", ""),
        ("", "An unknown browser", ""),
    ],
)
def test_a_user_agent_is_named_by_its_browser_and_system(user_agent, name, device):
    client = client_describe(user_agent)
    assert (client.name, client.device) == (name, device)


def test_the_page_names_each_browser_and_when_it_was_last_active(client):
    customer = VerifiedUserFactory()
    signed_in(customer, SAFARI_IPHONE)
    UserSession.objects.filter(user=customer).update(last_seen_at=timezone.now() - timedelta(hours=3))
    laptop = signed_in(customer, FIREFOX_WINDOWS)

    page = laptop.get(reverse("usersessions_list")).content.decode()
    cards = page.split('<li class="card signin-session">')[1:]
    assert len(cards) == 2
    # This browser first, then the others, each named, with its last activity.
    assert "Firefox 141 on Windows 10" in cards[0] and "This browser" in cards[0] and "Now" in cards[0]
    assert "Mobile Safari 17 on iOS 17.4" in cards[1] and "iPhone" in cards[1] and "3\xa0hours ago" in cards[1]
    assert "Sign out this browser" in cards[1] and "Sign out this browser" not in cards[0]
    # The raw user agent only in the details a reader may open.
    assert page.count(SAFARI_IPHONE) == 1 and "<summary>What the browser sent</summary>" in page


def test_ending_one_session_signs_out_that_browser_only(client):
    customer = VerifiedUserFactory()
    phone = signed_in(customer, SAFARI_IPHONE)
    tablet = signed_in(customer, "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
    laptop = signed_in(customer, FIREFOX_WINDOWS)

    response = laptop.post(reverse("usersession_end", args=[session_of(customer, SAFARI_IPHONE).pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("usersessions_list")
    assert "Mobile Safari 17 on iOS 17.4 is signed out." in response.content.decode()

    # The phone is signed out at its next page; the tablet and the laptop are not.
    assert phone.get(reverse("devices:list"))["Location"].startswith(reverse("account_login"))
    assert tablet.get(reverse("devices:list")).status_code == 200
    assert laptop.get(reverse("devices:list")).status_code == 200
    assert UserSession.objects.filter(user=customer).count() == 2
    event = ActivityEvent.objects.get(user=customer, category="account", action=ActivityEvent.Action.DELETED)
    assert event.fields == ["sign_in_sessions"]
    assert "sign-in sessions ended" in laptop.get(reverse("me:activity")).content.decode()


def test_another_customer_s_session_this_one_or_an_ended_one_cannot_be_ended(client):
    customer, other = VerifiedUserFactory(), VerifiedUserFactory()
    laptop = signed_in(customer, FIREFOX_WINDOWS)
    theirs = signed_in(other, SAFARI_IPHONE)
    for session in (session_of(other, SAFARI_IPHONE), session_of(customer, FIREFOX_WINDOWS)):
        assert laptop.post(reverse("usersession_end", args=[session.pk])).status_code == 404
    assert laptop.post(reverse("usersession_end", args=[999_999])).status_code == 404
    assert laptop.get(reverse("usersession_end", args=[1])).status_code == 405
    assert theirs.get(reverse("devices:list")).status_code == 200
    assert laptop.get(reverse("devices:list")).status_code == 200
    assert not ActivityEvent.objects.filter(category="account", action=ActivityEvent.Action.DELETED).exists()


def test_signing_out_everywhere_else_keeps_this_browser(client):
    customer = VerifiedUserFactory()
    phone = signed_in(customer, SAFARI_IPHONE)
    laptop = signed_in(customer, FIREFOX_WINDOWS)
    response = laptop.post(reverse("usersessions_list"), follow=True)
    assert response.status_code == 200
    assert [s.user_agent for s in UserSession.objects.filter(user=customer)] == [FIREFOX_WINDOWS]
    assert phone.get(reverse("devices:list")).status_code == 302
    assert ActivityEvent.objects.filter(user=customer, fields=["sign_in_sessions"]).count() == 1


def test_the_page_in_french(client):
    customer = VerifiedUserFactory(language="fr")
    signed_in(customer, SAFARI_IPHONE)
    laptop = signed_in(customer, FIREFOX_WINDOWS)
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Firefox 141 sous Windows 10" in page and "Ce navigateur" in page
    assert "Déconnecter ce navigateur" in page and "Dernière activité" in page
