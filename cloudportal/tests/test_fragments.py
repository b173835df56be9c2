"""The cached parts of customers' pages (cloudportal/fragments.py): their tokens are
replaced by every kind of change, at once and again on commit, and a page never
shows what a token no longer names. The page-level cases (a device added, sessions
rolled up, a profile cleared, an erasure, holds) are in portal/tests/test_page_costs.py."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory
from cloudportal import fragments
from cloudportal.fragments import customer_changed, customer_fragment, everyone_changed

pytestmark = pytest.mark.django_db


def token_of(user_id: int | None = None) -> str | None:
    key = fragments.EVERYONE_KEY if user_id is None else fragments.customer_token_key(user_id)
    return cache.get(key)


def built(user_id: int, calls: list) -> str:
    def build() -> str:
        calls.append(1)
        return f"<p>built {len(calls)}</p>"

    return customer_fragment("test", user_id=user_id, parts=("x",), build=build)


def test_a_part_is_built_once_then_served_until_its_customer_changes():
    calls: list = []
    assert built(1, calls) == "<p>built 1</p>"
    assert built(1, calls) == "<p>built 1</p>"
    assert built(2, calls) == "<p>built 2</p>"  # another customer: a part of their own
    customer_changed(1)
    assert built(1, calls) == "<p>built 3</p>"
    assert built(2, calls) == "<p>built 2</p>"  # not theirs to change
    everyone_changed()
    assert built(2, calls) == "<p>built 4</p>"


def test_a_change_replaces_the_token_at_once_and_again_when_it_commits(django_capture_on_commit_callbacks):
    customer_changed(7)
    before = token_of(7)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        customer_changed(7)
        during = token_of(7)
        assert during != before
    assert token_of(7) not in (before, during)


def test_a_lost_token_is_replaced_by_a_new_one_never_an_old_one():
    calls: list = []
    built(3, calls)
    cache.delete(fragments.customer_token_key(3))
    built(3, calls)
    assert len(calls) == 2


def test_with_the_cache_unreachable_parts_are_built_on_every_request(monkeypatch):
    monkeypatch.setattr(cache, "get_many", lambda keys, version=None: {})
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: True)
    monkeypatch.setattr(cache, "get", lambda key, default=None, version=None: default)
    calls: list = []
    built(4, calls)
    built(4, calls)
    assert len(calls) == 2


def test_a_customer_s_own_write_request_replaces_their_token_and_no_one_else_s(client):
    customer, other = VerifiedUserFactory(), VerifiedUserFactory()
    customer_changed(customer.pk, other.pk)
    everyone_changed()
    mine, theirs, everyone = token_of(customer.pk), token_of(other.pk), token_of()
    client.force_login(customer)
    client.post(reverse("me:profile"), {})  # whatever the form says of it
    assert token_of(customer.pk) != mine
    assert token_of(other.pk) == theirs and token_of() == everyone


def test_a_staff_member_s_write_request_replaces_everyone_s_token(client):
    everyone_changed()
    everyone = token_of()
    client.force_login(StaffUserFactory())
    client.post(reverse("admin:index"), {})
    assert token_of() != everyone


def test_the_retention_sweep_replaces_everyone_s_token():
    from portal.sweep import retention_sweep

    everyone_changed()
    everyone = token_of()
    retention_sweep()
    assert token_of() != everyone


def test_the_release_names_the_code_and_templates():
    digest = fragments.release()
    assert len(digest) == 16 and digest == fragments.release()


def test_a_hold_reaching_its_expiry_replaces_everyone_s_token_with_no_write(client):
    from datetime import timedelta

    from django.utils import timezone

    from compliance.tests.factories import LegalHoldFactory

    customer = VerifiedUserFactory()
    client.force_login(customer)
    expiry = timezone.now() + timedelta(hours=1)
    LegalHoldFactory(mac="00:1A:2B:00:00:01", expires_at=expiry, customer_may_be_told=False)
    calls: list = []
    built(customer.pk, calls)
    built(customer.pk, calls)
    assert len(calls) == 1
    assert cache.get(fragments.NEXT_CHANGE_KEY) == expiry.isoformat()
    later = expiry + timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fragments.timezone, "now", lambda: later)
        built(customer.pk, calls)
        assert len(calls) == 2  # built again: the hold is over
        built(customer.pk, calls)
        assert len(calls) == 2
        assert cache.get(fragments.NEXT_CHANGE_KEY) == fragments.NO_CHANGE_AHEAD
