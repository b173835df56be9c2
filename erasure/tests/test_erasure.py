"""Account deletion: lock and sign-out, the confirmation and its cancel link, erasure
through the registry with its receipt and ledger, and the completeness scan."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accesslogs.models import NetworkSession
from accounts.models import Profile, User
from accounts.services import profile_update
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal import privacy
from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import email_deliver
from cloudportal.tests.test_privacy_registry import _fill
from erasure.ledger import email_hash, ledger_file_read
from erasure.models import ErasureLedgerEntry, ErasureRequest
from erasure.services import account_delete_request, account_erase, erasures_due
from erasure.tasks import erasures_due_queue
from erasure.tests.scan import scan

pytestmark = pytest.mark.django_db

SECRETS = {
    "full_name": "Ada Kingsley-Lovelace",
    "phone": "+33612345678",
    "id_document_type": "passport",
    "id_number": "X4RTBPFW4",
    "iban": "FR7630006000011234567890189",
}


@pytest.fixture(autouse=True)
def _ledger(settings, tmp_path):
    settings.ERASURE_LEDGER_PATH = tmp_path / "ledger.jsonl"


OTHER_SECRETS = {
    "full_name": "Grace Hopper",
    "phone": "+33698765432",
    "id_document_type": "passport",
    "id_number": "Y9ZZQ1234",
    "iban": "DE89370400440532013000",
}


def customer_with_everything(email: str = "ada.kingsley@example.org", secrets: dict = SECRETS) -> User:
    """A customer with data in every category, a profile with every secret, and a
    staff change of their account in Django's admin log."""
    user = VerifiedUserFactory(email=email)
    _fill(user)
    User.objects.filter(pk=user.pk).update(language="en")  # _fill chose French
    user.refresh_from_db()
    profile_update(user=user, actor=user, data=secrets)
    staff = VerifiedUserFactory(is_staff=True)
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[user], action_flag=CHANGE, change_message="[]", single_object=True
    )
    return user


def needles_for(user: User) -> list[str]:
    """What must not survive: the email, name, phone, ID number and IBAN, and the
    ciphertexts of the encrypted two as stored (a scan for the clear text could
    never find them)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, iban FROM {Profile._meta.db_table} WHERE user_id = %s", [user.pk])  # noqa: S608
        stored = cursor.fetchone()
    return [user.email, *(SECRETS[k] for k in ("full_name", "phone", "id_number", "iban")), *stored]


def sign_in(client, user: User) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content


def reauthenticate(client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content


def test_the_scan_finds_the_customer_before_erasure():
    """The scan can fail: before erasure it finds every value somewhere, the ID
    number and IBAN as their ciphertexts (never in clear: they are encrypted)."""
    user = customer_with_everything()
    found = {needle for _table, _column, needle in scan(needles_for(user))}
    assert found == set(needles_for(user)) - {SECRETS["id_number"], SECRETS["iban"]}


def test_deleting_locks_the_account_signs_out_everywhere_and_confirms_with_a_cancel_link(
    client, settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_GRACE_HOURS = 24
    user = customer_with_everything()
    sign_in(client, user)
    other_device = Client()
    sign_in(other_device, user)
    assert UserSession.objects.filter(user=user).count() == 2
    assert client.get(reverse("me:delete")).status_code == 302  # re-authentication first
    reauthenticate(client)
    page = client.get(reverse("me:delete"))
    assert page.status_code == 200
    for category in privacy.categories():
        assert str(category.label) in page.content.decode()
    # Without ticking the box: a 400 and nothing happens.
    refused = client.post(reverse("me:delete"), {})
    assert refused.status_code == 400
    assert not ErasureRequest.objects.filter(status=ErasureRequest.Status.PENDING).exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("me:delete"), {"confirm": "yes"})
    assert response.status_code == 302 and response.url == reverse("me:delete_requested")
    user.refresh_from_db()
    assert user.is_active is False
    assert UserSession.objects.filter(user=user).count() == 0
    assert other_device.get(reverse("me:profile")).status_code == 302  # signed out there too
    assert client.get(reverse("me:profile")).status_code == 302
    [message] = [m for m in mail.outbox if m.to == [user.email]]
    assert message.alternatives and "We are deleting your account" in message.subject
    link = re.search(r"http://\S+/me/delete/cancel/\S+/", message.body).group(0)
    # Not due yet: the beat job leaves it.
    assert erasures_due() == [] and erasures_due_queue() == 0
    # Asking again is refused.
    with pytest.raises(Exception, match="already being deleted"):
        account_delete_request(user=user)

    # The cancel link: GET asks, POST restores.
    path = link.split("testserver", 1)[-1] if "testserver" in link else re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    user.refresh_from_db()
    assert user.is_active is True
    assert ErasureRequest.objects.order_by("-pk").first().status == ErasureRequest.Status.CANCELLED
    assert client.post(path).status_code == 400  # used once
    assert client.get(path).status_code == 404
    sign_in(client, user)  # the account signs in again


def test_a_forged_or_expired_cancel_link_is_refused(client, settings):
    settings.ERASURE_GRACE_HOURS = 24
    user = VerifiedUserFactory()
    account_delete_request(user=user)
    assert client.get(reverse("me:delete_cancel", args=["forged"])).status_code == 404
    assert client.post(reverse("me:delete_cancel", args=["forged"])).status_code == 400
    assert User.objects.get(pk=user.pk).is_active is False


def test_erasure_runs_through_the_registry_leaves_nothing_and_records_the_ledger(
    settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_GRACE_HOURS = 0
    user = customer_with_everything()
    other = customer_with_everything("someone.else@example.net", OTHER_SECRETS)
    needles = needles_for(user)
    other_counts = {c.key: [n.value for n in c.counts(other)] for c in privacy.categories()}
    sessions = NetworkSession.objects.filter(subscriber__user=user).count()
    assert sessions == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = account_delete_request(user=user)  # grace 0: erasure queued at once (eager here)
    assert not User.objects.filter(pk=user.pk).exists()
    assert not ErasureRequest.objects.filter(pk=request.pk).exists()
    assert account_erase(request_id=request.pk) is None  # twice: nothing more

    # The confirmation and the receipt went out; the receipt lists every category.
    subjects = [m.subject for m in mail.outbox if m.to == [user.email]]
    assert any("We are deleting your account" in s for s in subjects)
    [receipt] = [m for m in mail.outbox if "Your account has been erased" in m.subject]
    for category in privacy.categories():
        assert str(category.label) in receipt.body, category.key
    assert "kept: 1 session," in receipt.body
    assert receipt.alternatives
    # Messages still waiting at erasure go out (as a sender delivers them), then
    # their recipient is forgotten: no row holds the address any more.
    waiting = OutboundEmail.objects.filter(to__iexact=user.email, user__isnull=True, forget_recipient=True)
    assert waiting.exists()
    for email_id in list(waiting.values_list("pk", flat=True)):
        assert email_deliver(email_id=email_id)
    assert not OutboundEmail.objects.filter(to__iexact=user.email).exists()

    # Only detached session rows remain; the scan finds nothing anywhere.
    assert (
        NetworkSession.objects.filter(
            subscriber__user__isnull=True, subscriber__email="", site__name="Gare de Lyon"
        ).count()
        >= 1
    )
    assert scan(needles) == []
    # The other customer lost nothing.
    assert {c.key: [n.value for n in c.counts(other)] for c in privacy.categories()} == other_counts

    # The ledger: the id, a keyed hash and the time, in the table and in the file.
    entry = ErasureLedgerEntry.objects.get()
    assert entry.account_id == user.pk and entry.email_hash == email_hash(user.email)
    [line] = list(ledger_file_read())
    assert (line.account_id, line.email_hash) == (user.pk, entry.email_hash)
    assert user.email not in settings.ERASURE_LEDGER_PATH.read_text()


def test_the_beat_job_erases_accounts_whose_grace_period_ended(settings):
    settings.ERASURE_GRACE_HOURS = 24
    due, waiting = VerifiedUserFactory(), VerifiedUserFactory()
    old = account_delete_request(user=due)
    ErasureRequest.objects.filter(pk=old.pk).update(erase_after=timezone.now() - timezone.timedelta(minutes=1))
    account_delete_request(user=waiting)
    assert erasures_due_queue() == 1  # eager: erased now
    assert not User.objects.filter(pk=due.pk).exists()
    assert User.objects.filter(pk=waiting.pk, is_active=False).exists()


def test_a_customer_only_erases_themselves_and_addresses_match_case_insensitively():
    user = VerifiedUserFactory(email="mixed@example.org")
    EmailAddress.objects.create(user=user, email="second@example.org", verified=True)
    assert email_hash("Mixed@Example.org ") == email_hash("mixed@example.org")


def test_held_sessions_stay_held_and_the_receipt_names_only_holds_the_customer_may_know(
    settings, django_capture_on_commit_callbacks
):
    """_fill places a hold on the account that the customer may be told of; a second,
    secret hold on the device's MAC address with an expiry must not show."""
    from datetime import timedelta

    from django.utils.formats import date_format

    from accesslogs.holds import sessions_held_q
    from compliance.models import LegalHold
    from compliance.tests.factories import LegalHoldFactory

    settings.ERASURE_GRACE_HOURS = 0
    user = customer_with_everything()
    session = NetworkSession.objects.get(subscriber__user=user)
    told = LegalHold.objects.get(account_ref=user.pk)
    expires = timezone.now() + timedelta(days=400)
    LegalHold.objects.filter(pk=told.pk).update(expires_at=expires)
    LegalHoldFactory(mac=session.mac, customer_may_be_told=False, expires_at=timezone.now() + timedelta(days=900))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        account_delete_request(user=user)  # grace 0: erased at once (eager here)
    assert not User.objects.filter(pk=user.pk).exists()

    # Both holds still match the detached session: the sweep will not erase it.
    held = NetworkSession.objects.filter(pk=session.pk).filter(sessions_held_q())
    assert list(held.values_list("subscriber__user", "subscriber__email")) == [(None, "")]
    [receipt] = [m for m in mail.outbox if "Your account has been erased" in m.subject]
    day = date_format(timezone.localtime(expires), "DATE_FORMAT")
    assert f"of these, 1 session under a legal hold from an authority, kept until {day} at the latest" in receipt.body
    assert receipt.body.count("under a legal hold from an authority, kept until") == 1  # not the secret one
    html = receipt.alternatives[0][0]
    assert "under a legal hold from an authority, kept until" in html
