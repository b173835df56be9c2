"""The cache backend: Django's Redis cache, answering as an empty cache while Redis
cannot be reached.

Nothing the portal keeps in the cache is the only copy of anything: the statement in
force is read again from the database, the activity-write throttle and the email
senders' heartbeats start afresh, and the sign-in rate limits count from zero. So
while Redis is down (a restart, a failover) pages keep working instead of failing
with the cache: reads miss, writes are dropped, `add` says it added, and each failure
is logged with the operation only (no key: keys can hold a session id). Rate limits
do not apply during such an outage (refusing instead would keep every customer from
signing in): that is the price of the portal staying up.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _unreachable(operation: str, exc: Exception) -> None:
    logger.warning("cache unreachable (%s) on %s: answered as empty", type(exc).__name__, operation)


class ReusedClientRedisCache(RedisCacheClient):
    """Django's Redis cache client, but with one `redis.Redis` per connection pool
    instead of a new one for every operation: building one copies its table of
    response callbacks (about 170 entries), a third of a millisecond each time, and
    a signed-in page asks the cache four or five times. A `redis.Redis` is safe to
    share between threads; its pool hands each command a connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCache

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            _unreachable("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            _unreachable("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            _unreachable("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            # As if added: no other process can hold the key in a cache nobody reaches.
            # A lock taken with add (allauth's rate limits) is then taken, and the limit
            # allows: refusing would keep every customer from signing in.
            _unreachable("add", exc)
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            _unreachable("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            _unreachable("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except UNREACHABLE as exc:
            _unreachable("clear", exc)
            return False
