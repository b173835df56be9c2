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
    assert {"account", "profile", "preferences", "activity", "data_requests", "emails"} <= set(keys)
    for category in privacy.categories():
        for attribute in ("label", "description", "purpose", "legal_basis", "retention", "storage", "correction"):
            assert str(getattr(category, attribute)).strip(), (category.key, attribute)
        assert category.fields and category.processors, category.key


def test_a_category_cannot_be_registered_twice():
    existing = privacy.category("profile")
    clone = privacy.Category(**{**existing.__dict__})
    with pytest.raises(ValueError):
        privacy.register(clone)


@pytest.mark.django_db
def test_export_and_erase_speak_for_every_category():
    user = VerifiedUserFactory()
    for category in privacy.categories():
        assert isinstance(category.export(user), list)
        assert all(isinstance(count.value, int) for count in category.counts(user))
