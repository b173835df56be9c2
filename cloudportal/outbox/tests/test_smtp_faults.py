"""The SMTP server down when a verification email and an erasure receipt are sent
(marker `faults`): the real worker fails to connect, the outbox keeps each message
with a retry time (EMAIL_RETRY_SECONDS is 1 in the test worker: 2 s, then 4 s...),
and beat's `emails_send_pending` sends each exactly once when the server is back."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from cloudportal.testing.faults import wait_until
from erasure.services import account_delete_request

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _failed_once(**filters) -> bool:
    return OutboundEmail.objects.filter(attempts__gte=1, status=OutboundEmail.Status.PENDING, **filters).exists()


def test_a_verification_email_sent_while_smtp_is_down_arrives_once_when_it_is_back(faults, beat):
    faults.smtp.stop()
    signup = {"email": "newcomer@example.org", "password1": "a-long-enough-phrase", "password2": "a-long-enough-phrase"}
    assert Client().post(reverse("account_signup"), signup).status_code == 302
    wait_until(lambda: _failed_once(to="newcomer@example.org"), what="a failed attempt")
    assert not faults.smtp.sink.received()

    faults.smtp.start()
    [message] = faults.smtp.wait_for_subject("Confirm", to="newcomer@example.org", settle=6)  # past a second retry
    assert "/accounts/confirm-email/" in message.get_body(preferencelist=("plain",)).get_content()
    assert OutboundEmail.objects.get(to="newcomer@example.org").status == OutboundEmail.Status.SENT


def test_an_erasure_receipt_sent_while_smtp_is_down_arrives_once_when_it_is_back(faults, beat, settings):
    settings.ERASURE_GRACE_HOURS = 0
    user = VerifiedUserFactory()
    address = user.email
    faults.smtp.stop()
    account_delete_request(user=user)
    wait_until(lambda: _failed_once(template="emails/account_erased"), what="a failed attempt")

    faults.smtp.start()
    assert len(faults.smtp.wait_for_subject("Your account has been erased", to=address, settle=6)) == 1
    # Sent, the receipt forgets its recipient: nothing holds the address any more.
    wait_until(lambda: not OutboundEmail.objects.filter(to__iexact=address).exists(), what="the address forgotten")
