"""Within a request, each cache key is read from Redis once (cloudportal/cache.py): a
write from this process is seen at once, the read-ahead keys come with the first
read, and a kept signed-in page costs one round trip; outside requests, every read
goes to Redis."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started

from accounts.tests.factories import VerifiedUserFactory
from cloudportal import cache as cache_module
from cloudportal.fragments import pointer_key

pytestmark = pytest.mark.django_db


@contextmanager
def round_trips():
    """The Redis commands sent while inside, by name."""
    sent: list[str] = []
    client = cache._cache.get_client()
    original = client.execute_command

    def counted(*args, **options):
        sent.append(args[0])
        return original(*args, **options)

    client.execute_command = counted
    try:
        yield sent
    finally:
        del client.execute_command


@contextmanager
def in_a_request():
    request_started.send(sender=None)
    try:
        yield
    finally:
        request_finished.send(sender=None)


def elsewhere_set(key: str, value) -> None:
    """What another process writes: straight to Redis, past this process's reads."""
    client = cache._cache.get_client(write=True)
    client.set(cache.make_key(key), cache._cache._serializer.dumps(value))


def test_a_request_reads_a_key_once_and_sees_its_own_writes():
    cache.set("reads:a", 1)
    with in_a_request(), round_trips() as sent:
        assert cache.get("reads:a") == 1
        elsewhere_set("reads:a", 2)
        assert cache.get("reads:a") == 1, "read again within the request"
        assert cache.get_many(["reads:a"]) == {"reads:a": 1}
        reads = [command for command in sent if command in ("GET", "MGET")]
        cache.set("reads:a", 3)
        assert cache.get("reads:a") == 3
        cache.delete_many(key for key in ["reads:a"])
        assert cache.get("reads:a") is None
        assert cache.add("reads:a", 4)
        assert cache.get("reads:a") == 4
        cache.incr("reads:a")
        assert cache.get("reads:a") == 5
    assert reads == ["MGET"]
    # The next request reads afresh.
    elsewhere_set("reads:a", 6)
    with in_a_request():
        assert cache.get("reads:a") == 6


def test_outside_a_request_every_read_goes_to_redis():
    cache.set("reads:b", 1)
    assert cache.get("reads:b") == 1
    elsewhere_set("reads:b", 2)
    assert cache.get("reads:b") == 2


def test_the_read_ahead_keys_come_with_the_first_read(monkeypatch):
    monkeypatch.setattr(cache_module, "_read_ahead", ["reads:ahead"])
    cache.set("reads:ahead", "state")
    with in_a_request(), round_trips() as sent:
        assert cache.get("reads:c", "none") == "none"
        assert cache.get("reads:ahead") == "state"
        assert cache.get_many(["reads:c", "reads:ahead"]) == {"reads:ahead": "state"}
    assert sent == ["MGET"]


def test_a_kept_dashboard_costs_one_round_trip(client):
    """The session with everyone's token, the moment of the next change, the
    statement's state, and (through the session's owner) the customer's token, the
    kept user and (through the page's pointer) the page."""
    user = VerifiedUserFactory()
    client.force_login(user)
    client.get("/")
    client.get("/")
    with round_trips() as sent:
        response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == user
    assert sent == ["EVALSHA"]


def test_a_session_without_its_owner_key_costs_more_round_trips_and_writes_it(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    client.get("/")
    client.get("/")
    owner = f"accounts:session-owner:{client.session.session_key}"
    cache.delete(owner)
    with round_trips() as sent:
        assert client.get("/").wsgi_request.user == user
    # The user's keys, the page's pointer written again (it was not read), the page,
    # the owner key.
    assert sent == ["EVALSHA", "MGET", "SET", "MGET", "SET"], sent
    assert cache.get(owner) == user.pk
    with round_trips() as sent:
        client.get("/")
    assert sent == ["EVALSHA"]


def test_an_owner_key_naming_someone_else_changes_nothing(client):
    """The owner key only says which keys to read with the session: the user is
    the session's own."""
    user, other = VerifiedUserFactory(), VerifiedUserFactory()
    client.force_login(other)
    client.get("/")  # the other customer's token and kept user are in the cache
    client.force_login(user)
    client.get("/")
    owner = f"accounts:session-owner:{client.session.session_key}"
    cache.set(owner, other.pk)
    response = client.get("/")
    assert response.wsgi_request.user == user
    assert 'data-page="dashboard"' in response.content.decode()
    assert cache.get(owner) == user.pk, "the owner key is put right"


def _pointer(user) -> str:
    return cache.make_key(pointer_key("page", user_id=user.pk, parts=("/",)))


def _point(user, target: str) -> None:
    cache._cache.get_client(write=True).set(_pointer(user), target)


def test_a_pointer_naming_another_entry_is_put_right(client):
    """A pointer is a hint: naming something else (another day's page, another
    language's), the page is read under its own key and the pointer rewritten."""
    user = VerifiedUserFactory()
    client.force_login(user)
    client.get("/")
    client.get("/")
    kept = cache._cache.get_client().get(_pointer(user)).decode()
    _point(user, cache.make_key("fragment:page:dashboard:elsewhere"))
    with round_trips() as sent:
        response = client.get("/")
    assert 'data-page="dashboard"' in response.content.decode()
    assert sent == ["EVALSHA", "SET", "MGET"], sent
    assert cache._cache.get_client().get(_pointer(user)).decode() == kept


def test_a_pointer_to_someone_elses_page_shows_only_ones_own(client):
    """Pointed at another customer's kept page, a request reads it but never shows
    it: the page shown is the one kept under this customer's own key."""
    user, other = VerifiedUserFactory(email="ada@example.com"), VerifiedUserFactory(email="grace@example.com")
    client.force_login(other)
    client.get("/")
    theirs = cache._cache.get_client().get(_pointer(other)).decode()
    client.force_login(user)
    client.get("/")
    _point(user, theirs)
    page = client.get("/").content.decode()
    assert "ada@example.com" in page and "grace@example.com" not in page
    assert cache._cache.get_client().get(_pointer(user)).decode() != theirs
