"""The statement's state is kept in each process (cloudportal/process_copies.py): read
from Redis once, then from memory until any process writes it; a write here is seen
at once, one in another process as soon as its message arrives, and while this
process is not listening every request reads Redis again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cloudportal.process_copies import NONE, copies
from cloudportal.tests.test_cache_reads import in_a_request, round_trips
from policies.selectors import STATE_CACHE_KEY, StatementState, statement_state
from policies.services import statement_publish
from policies.tests.factories import DraftVersionFactory, PublishedVersionFactory

pytestmark = pytest.mark.django_db

STATE = StatementState(in_force_id=1, required_id=None, required_effective_at=None, in_force_version="2026.1")


def _until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


def _read_in_a_request():
    with in_a_request(), round_trips() as sent:
        state = statement_state()
    return state, [command for command in sent if command in ("GET", "MGET", "EVALSHA")]


def _copied() -> StatementState:
    """The state in Redis, read once and then copied in this process."""
    cache.set(STATE_CACHE_KEY, STATE, timeout=600)
    _read_in_a_request()  # starts the listening thread
    _until(copies.active)
    _read_in_a_request()  # read while listening: copied
    return _read_in_a_request()


def test_once_copied_the_state_costs_no_round_trip():
    state, reads = _copied()
    assert state == STATE
    assert reads == []


def test_a_write_in_this_process_is_seen_at_once():
    _copied()
    changed = replace(STATE, in_force_version="2026.2")
    cache.set(STATE_CACHE_KEY, changed, timeout=600)
    state, reads = _read_in_a_request()
    assert state == changed
    assert reads == ["MGET"]


def test_a_write_in_another_process_drops_the_copy_in_this_one():
    _copied()
    code = (
        "import django; django.setup()\n"
        "from dataclasses import replace\n"
        "from django.core.cache import cache\n"
        "from cloudportal.tests.test_process_copies import STATE\n"
        "from policies.selectors import STATE_CACHE_KEY\n"
        "cache.set(STATE_CACHE_KEY, replace(STATE, in_force_version='elsewhere'), timeout=600)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test"}
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, check=True, timeout=60)
    name = cache.make_key(STATE_CACHE_KEY)
    _until(lambda: copies.get(name) is NONE, seconds=2)
    state, reads = _read_in_a_request()
    assert state.in_force_version == "elsewhere"
    assert reads == ["MGET"]


def test_while_the_listener_is_cut_off_every_request_reads_redis():
    _copied()
    cache._cache.get_client(write=True).execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    _until(lambda: not copies.active())
    cache.set(STATE_CACHE_KEY, replace(STATE, in_force_version="meanwhile"), timeout=600)
    for _request in range(2):
        state, reads = _read_in_a_request()
        if copies.active():
            break  # subscribed again already: what follows is the copy of the value below
        assert state.in_force_version == "meanwhile"
        assert reads == ["MGET"]
    _until(copies.active)
    _read_in_a_request()
    assert _read_in_a_request() == (replace(STATE, in_force_version="meanwhile"), [])


def test_a_value_read_while_a_change_arrives_is_not_kept():
    _copied()
    name = cache.make_key(STATE_CACHE_KEY)
    generation = copies.generation()
    copies.drop([name])  # as the listener does when a message arrives
    copies.keep(name, replace(STATE, in_force_version="stale"), generation)
    assert copies.get(name) is NONE


def test_cleared_the_cache_forgets_the_copies():
    _copied()
    cache.clear()
    with in_a_request(), round_trips() as sent:
        assert cache.get(STATE_CACHE_KEY) is None
    assert sent == ["MGET"]


def test_publishing_a_version_shows_on_the_visitors_page_at_once(client, django_capture_on_commit_callbacks):
    PublishedVersionFactory(version="1.0", body="Old words")
    client.get("/privacy/")
    _until(copies.active)
    client.get("/privacy/")
    with round_trips() as sent:
        assert "Old words" in client.get("/privacy/").content.decode()
    assert sent == [], "the state and the page from memory"
    draft = DraftVersionFactory(version="1.1", body="New words", effective_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        statement_publish(version=draft)
    page = client.get("/privacy/").content.decode()
    assert "New words" in page and "Old words" not in page
