"""The privacy registry: every model holding a customer's data belongs to a category."""

import pytest
from django.db import models
from django.test.utils import isolate_apps

from accounts.tests.factories import VerifiedUserFactory
from cloudportal import privacy


def test_every_model_referencing_a_customer_is_in_a_category():
    assert privacy.uncovered_models() == []


@isolate_apps("cloudportal.tests")
def test_coverage_fails_on_a_model_referencing_a_customer_without_a_category():
    class LoyaltyCard(models.Model):
        owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"

    class NewsletterSignup(models.Model):
        email = models.EmailField()

        class Meta:
            app_label = "tests"

    class Colour(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "tests"

    assert privacy.uncovered_models([LoyaltyCard, NewsletterSignup, Colour]) == [
        "tests.LoyaltyCard",
        "tests.NewsletterSignup",
    ]


def test_categories_are_complete_declarations():
    keys = [c.key for c in privacy.categories()]
    assert {
        "account",
        "profile",
        "preferences",
        "devices",
        "access_logs",
        "activity",
        "data_requests",
        "emails",
    } <= set(keys)
    for category in privacy.categories():
        for attribute in ("label", "description", "purpose", "legal_basis", "retention", "storage", "correction"):
            assert str(getattr(category, attribute)).strip(), (category.key, attribute)
        assert category.fields and category.processors, category.key


def test_a_category_cannot_be_registered_twice():
    existing = privacy.category("profile")
    clone = privacy.Category(**{**existing.__dict__})
    with pytest.raises(ValueError):
        privacy.register(clone)


#: Categories whose records outlive the account, as the law requires: erasure keeps
#: them (and says so, with why), so they are checked for that instead of deletions.
KEPT_BY_LAW = {"disclosures", "legal_holds", "authority_requests"}


def _fill(user):
    from accesslogs.services import collector_create
    from accesslogs.tests.factories import sessions_record
    from accounts.data_requests import data_request_file
    from accounts.services import preferences_update, profile_update
    from cloudportal.outbox import email_queue
    from devices.services import device_add
    from policies.services import statement_accept
    from policies.tests.factories import PublishedVersionFactory

    profile_update(user=user, actor=user, data={"full_name": "Someone", "iban": "FR1420041010050500013M02606"})
    preferences_update(user=user, actor=user, data={"email_service_improvement": True, "language": "fr"})
    data_request_file(user=user, kind="information", message="What do you hold?")
    device = device_add(user=user, mac=f"02:00:00:00:{user.pk // 256 % 256:02X}:{user.pk % 256:02X}", label="Phone")
    collector, _token = collector_create(name=f"Registry test {user.pk}")
    sessions_record(collector, [{"mac": device.mac, "site": "Gare de Lyon"}])
    email_queue(to=user.email, user=user, template="emails/deletion_notice", context={"category": "x", "fields": []})
    from django.utils import timezone

    from compliance.tests.factories import DisclosureFactory, LegalHoldFactory
    from erasure.models import ErasureRequest
    from exports.models import DataExport

    LegalHoldFactory(scope="account", account=user, customer_may_be_told=True)
    DisclosureFactory(customer=user)
    from authorities.tests.factories import authority_request_answered

    authority_request_answered(mac=device.mac)
    statement_accept(user=user, version=PublishedVersionFactory(), ip_address="192.0.2.7", user_agent="Firefox")
    now = timezone.now()
    DataExport.objects.create(user=user, status=DataExport.Status.EXPIRED, created_at=now)
    ErasureRequest.objects.create(
        user=user, status=ErasureRequest.Status.CANCELLED, requested_at=now, erase_after=now, cancelled_at=now
    )


@pytest.mark.django_db
def test_erase_removes_every_category_of_one_customer_and_nothing_of_another():
    from accesslogs.models import NetworkSession
    from accounts.models import User

    user, other = VerifiedUserFactory(), VerifiedUserFactory()
    _fill(user)
    _fill(other)
    other_before = {c.key: [n.value for n in c.counts(other)] for c in privacy.categories()}
    other_export = {c.key: list(c.export(other)) for c in privacy.categories()}

    results = {c.key: c.erase(user) for c in privacy.categories()}

    user = User.objects.get(pk=user.pk)
    assert not user.has_usable_password()
    assert user.email_service_improvement is False and user.language == "en"
    for category in privacy.categories():
        if category.key in KEPT_BY_LAW:
            assert sum(results[category.key].kept.values()) >= 1 and results[category.key].kept_reason, category.key
            continue
        if category.key != "preferences":
            assert all(n.value == 0 for n in category.counts(user)), category.key
        assert sum(results[category.key].deleted.values()) >= 1, category.key
    # Sessions stay, for their retention period, without the customer or their email.
    access_logs = results["access_logs"]
    assert access_logs.kept == {"sessions": 1} and access_logs.kept_until is not None and access_logs.kept_reason
    detached = NetworkSession.objects.filter(site__name="Gare de Lyon", subscriber__user__isnull=True)
    assert list(detached.values_list("subscriber__email", flat=True)) == [""]
    assert {c.key: [n.value for n in c.counts(other)] for c in privacy.categories()} == other_before
    assert {c.key: list(c.export(other)) for c in privacy.categories()} == other_export


@pytest.mark.django_db
def test_export_holds_the_customers_records():
    user = VerifiedUserFactory()
    _fill(user)
    exported = {c.key: list(c.export(user)) for c in privacy.categories()}
    assert exported["profile"][0]["iban"] == "FR1420041010050500013M02606"
    assert exported["data_requests"][0]["request"] == "What do you hold?"
    assert exported["preferences"][0]["language"] == "fr"
    assert exported["account"][0]["email"] == user.email
    assert exported["devices"][0]["label"] == "Phone" and exported["devices"][0]["randomised"] is True
    assert len(exported["activity"]) >= 3
    assert exported["access_logs"][0]["site"] == "Gare de Lyon" and exported["access_logs"][0]["email_as_recorded"] == (
        user.email
    )


@pytest.mark.django_db
def test_erase_rows_deletes_the_customer_s_rows_and_reports_the_count():
    from accounts.models import ActivityEvent
    from accounts.services import activity_record

    mine, other = VerifiedUserFactory(), VerifiedUserFactory()
    for user in (mine, mine, other):
        activity_record(user=user, action="changed", category="profile", actor_kind="customer", fields=["city"])
    result = privacy.erase_rows("activity events", ActivityEvent.objects.filter(user=mine))
    assert result == privacy.ErasureResult(deleted={"activity events": 2})
    assert not ActivityEvent.objects.filter(user=mine).exists() and ActivityEvent.objects.filter(user=other).exists()
    assert privacy.erase_rows("activity events", ActivityEvent.objects.filter(user=mine)).deleted == {
        "activity events": 0
    }


def test_the_shared_texts_are_said_in_french_too():
    from django.utils import translation

    shared = (
        privacy.HOSTING,
        privacy.EMAIL_PROVIDER,
        privacy.EU_DATABASE,
        privacy.LIFE_OF_ACCOUNT,
        privacy.CONTRACT,
        privacy.LEGAL_OBLIGATION,
    )
    with translation.override("en"):
        english = [str(text) for text in shared]
    with translation.override("fr"):
        french = [str(text) for text in shared]
    assert english[0] == "our hosting provider (data centres in the EU)"
    assert all(fr != en for fr, en in zip(french, english, strict=True)), french


def test_retention_texts_follow_the_setting_in_the_language_shown(settings):
    from django.utils import translation

    settings.ACCESS_LOG_RETENTION_MONTHS = 6
    sessions = privacy.category("access_logs")
    with translation.override("en"):
        assert str(sessions.retention).startswith("6 months from the session start")
        assert "past their 6 months" in str(privacy.category("legal_holds").description)
    with translation.override("fr"):
        assert str(sessions.retention).startswith("6 mois à compter du début de la session")
    settings.ACCESS_LOG_RETENTION_MONTHS = 1
    with translation.override("en"):
        assert str(sessions.retention).startswith("1 month from the session start")
