"""The signed-in user read from the cache (accounts/backends.py): no query once kept,
and never a stale user: a password changed, an account deactivated, suspended or
erased is seen on the very next request."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.fragments import customer_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    client.get("/")  # the sign-in session's activity recorded (the customer's token replaced)
    client.get("/")  # the user and the page kept
    return user


def signed_in(client) -> bool:
    response = client.get(reverse("me:data"))
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_kept_user_costs_no_query(client, customer, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


def test_a_password_changed_elsewhere_signs_the_session_out_at_once(client, customer):
    assert signed_in(client)
    user = User.objects.get(pk=customer.pk)
    user.set_password("a new and long passphrase")
    user.save()
    assert not signed_in(client)


def test_an_account_deactivated_in_bulk_signs_the_session_out_at_once(client, customer):
    User.objects.filter(pk=customer.pk).update(is_active=False)
    customer_changed(customer.pk)  # as the erasure request does (its rows' signals)
    assert not signed_in(client)


def test_a_suspension_is_seen_on_the_next_page(client, customer):
    user = User.objects.get(pk=customer.pk)
    user.suspended_at = timezone.now()
    user.save()
    assert client.get("/").url == reverse("me:suspended")


def test_an_erased_account_is_signed_out(client, customer):
    User.objects.get(pk=customer.pk).delete()
    assert not signed_in(client)


def test_a_user_is_kept_for_at_most_user_kept_seconds(customer):
    from django.core.cache import cache

    from accounts.backends import USER_KEPT_SECONDS

    redis = cache._cache.get_client()
    keys = list(redis.scan_iter(match=f"*fragment:user:{customer.pk}:*"))
    assert keys
    assert all(0 < redis.ttl(key) <= USER_KEPT_SECONDS for key in keys)
