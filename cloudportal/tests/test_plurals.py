"""Counts agree with their noun, in English and French: "1 email address", "2 email
addresses", "0 profil", on /me/data/, /me/delete/ and in the erasure receipt."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal.outbox.render import email_render
from cloudportal.privacy import ErasureResult, HeldPart, counted, noun
from devices.tests.factories import DeviceFactory

EXPECTED = {
    # language: {count: (email addresses, devices)}
    "en": {1: ("1 email address", "1 device"), 2: ("2 email addresses", "2 devices")},
    "fr": {1: ("1 adresse e-mail", "1 appareil"), 2: ("2 adresses e-mail", "2 appareils")},
}


def customer_with(client, *, language: str, count: int):
    user = VerifiedUserFactory(language=language)
    for n in range(count - 1):
        EmailAddress.objects.create(user=user, email=f"other{n}-{user.pk}@example.com", verified=True)
    for _n in range(count):
        DeviceFactory(user=user)
    client.force_login(user)
    return user


def text_of(html: str) -> str:
    """The page's text with tags dropped and spaces collapsed, as a reader sees it."""
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("count", [1, 2])
def test_what_we_hold_and_the_deletion_page_count_in_the_right_number(client, language, count):
    customer_with(client, language=language, count=count)
    emails, devices = EXPECTED[language][count]
    held = text_of(client.get(reverse("me:data")).content.decode())
    assert emails in held and devices in held
    assert client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD}).status_code == 302
    delete = text_of(client.get(reverse("me:delete")).content.decode())
    assert emails in delete and devices in delete
    if count == 1:
        assert "1 email addresses" not in held + delete and "1 devices" not in held + delete


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["1 device", "2 devices", "0 profiles", "1 legal hold", "of these, 1 session under"]),
        ("fr", ["1 appareil", "2 appareils", "0 profil", "1 gel légal", "dont 1 session"]),
    ],
)
def test_the_erasure_receipt_counts_in_the_right_number(language, expected):
    def item(label: str, result: ErasureResult):
        return SimpleNamespace(category=SimpleNamespace(label=label), result=result)

    erased = [
        item("Devices", ErasureResult(deleted={noun("device", "devices"): 1})),
        item("More devices", ErasureResult(deleted={noun("device", "devices"): 2})),
        item("Profile", ErasureResult(deleted={noun("profile", "profiles"): 0})),
        item(
            "Holds",
            ErasureResult(
                kept={noun("legal hold", "legal holds"): 1},
                kept_reason="why",
                held=(HeldPart(label=noun("session", "sessions"), count=1),),
            ),
        ),
    ]
    email = email_render(
        template="emails/account_erased", context={"erased": erased, "erased_at": timezone.now()}, language=language
    )
    for text in (email.text, text_of(email.html)):
        for phrase in expected:
            assert phrase in text, (phrase, text)
        assert "1 devices" not in text and "0 profile\n" not in text


@pytest.mark.parametrize(("language", "zero", "one", "two"), [("en", "0 devices", "1 device", "2 devices")])
def test_counted_follows_the_language(language, zero, one, two):
    with translation.override(language):
        assert [counted("devices", n) for n in (0, 1, 2)] == [zero, one, two]
    with translation.override("fr"):
        # French takes the singular for 0 and 1.
        assert [counted("devices", n) for n in (0, 1, 2)] == ["0 appareil", "1 appareil", "2 appareils"]
