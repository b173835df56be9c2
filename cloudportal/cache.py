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

Within a request, each key is read from Redis once (a round trip costs about a tenth
of a millisecond on a two-core development machine, a tenth of a kept page's time):
what the request has read is remembered until it ends, a write from this process
forgets the keys it writes, and the request's first read also brings the keys every
request reads (`read_ahead`: everyone's page token, the statement's state) and the
keys named after what a key holds (`read_through`: the session's customer's token
and kept user, and the key a pointer written by `point` names: the page kept for
the customer at that path). A kept signed-in page so costs one round trip. A change
made by another process while a request is answered is seen by the next request, as
if the request had read everything at its start. Outside requests (tasks, commands)
every read goes to Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cloudportal import process_copies
from cloudportal.process_copies import copies

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

_MISSING = object()
#: Set once the request's first read has brought the read-ahead keys.
_AHEAD_READ = object()
#: What the request being answered in this thread has read (cache key -> value, or
#: _MISSING); None outside requests.
_request_reads: ContextVar[dict | None] = ContextVar("cache_request_reads", default=None)
#: The keys every request reads, registered by the apps at start-up.
_read_ahead: list[str] = []


#: What this request's first read also reads through an owner (see `read_through`).
_request_through: ContextVar[tuple[str, Callable[[], list[str]], str] | None] = ContextVar(
    "cache_request_through", default=None
)
#: The owner's place in a key `read_through` names (_READ_THROUGH spells it too).
OWNER = "{owner}"
#: MGET of KEYS; then, if the last of them holds a value (an owner's id), MGET of
#: ARGV[2..] with OWNER replaced by that value, and of the pointer ARGV[1] so named
#: (unless empty); then, if the pointer holds a key's name, GET of that key. One
#: round trip for keys whose names depend on what another key holds (which only the
#: portal writes: an integer, a key's name).
_READ_THROUGH = """
local values = redis.call('MGET', unpack(KEYS))
local owner = values[#KEYS]
if owner and #ARGV > 1 then
  local named = {}
  for i = 2, #ARGV do
    named[i - 1] = (string.gsub(ARGV[i], '{owner}', owner))
  end
  if ARGV[1] ~= '' then
    named[#named + 1] = (string.gsub(ARGV[1], '{owner}', owner))
  end
  local more = redis.call('MGET', unpack(named))
  for i = 1, #named do
    values[#KEYS + i] = more[i]
  end
  local target = ARGV[1] ~= '' and more[#named]
  if target then
    values[#KEYS + #named + 1] = redis.call('GET', target)
  end
end
return values
"""


def read_ahead(*keys: str) -> None:
    """Read these keys with the first cache read of every request."""
    _read_ahead.extend(key for key in keys if key not in _read_ahead)


def read_through(owner: str, named: Callable[[], list[str]], pointer: str = "") -> None:
    """With this request's first read, read the key `owner` too and, if it holds an
    id, the keys `named()` gives (evaluated then) with OWNER replaced by that id, and
    the key that `pointer` (OWNER replaced too) names, if `point` wrote it: in the same
    round trip (a Lua script)."""
    _request_through.set((owner, named, pointer))


def point(pointer: str, target: str, timeout: int) -> None:
    """Let `read_through` read `target` with the request's first read, when it is
    given `pointer`: for a key whose name depends on more than its owner (a page's,
    on the language, the date, the path). A pointer is only a hint: a request reads
    through it only the key it would have read anyway, under that key's own name."""
    backend = caches["default"]
    if isinstance(backend, TolerantRedisCache):
        backend.point(pointer, target, timeout)


def request_begun(**kwargs) -> None:
    """request_started: remember this request's reads."""
    _request_reads.set({})
    _request_through.set(None)


def request_ended(**kwargs) -> None:
    """request_finished: forget them."""
    _request_reads.set(None)


def _unreachable(operation: str, exc: Exception) -> None:
    logger.warning("cache unreachable (%s) on %s: answered as empty", type(exc).__name__, operation)


class ReusedClientRedisCache(RedisCacheClient):
    """Django's Redis cache client, but with one `redis.Redis` per connection pool
    instead of a new one for every operation: building one copies its table of
    response callbacks (about 170 entries), a third of a millisecond each time, and
    every request asks the cache at least once. A `redis.Redis` is safe to
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
        self._through = None
        self._copied: tuple[int, frozenset] = (0, frozenset())

    def _copied_names(self) -> frozenset:
        """The made names of the keys kept in each process."""
        count, names = self._copied
        if count != len(process_copies.COPIED):
            names = frozenset(self.make_key(key) for key in process_copies.COPIED)
            self._copied = (len(process_copies.COPIED), names)
        return names

    def _from_copies(self, reads: dict, wanted: dict) -> dict:
        """`wanted` without the keys this process holds a copy of (put in `reads`)."""
        copied = self._copied_names()
        if not copied or copied.isdisjoint(wanted.values()):
            return wanted
        copies.listen(self._servers[0])
        left = {}
        for key, name in wanted.items():
            value = copies.get(name) if name in copied else process_copies.NONE
            if value is process_copies.NONE:
                left[key] = name
            else:
                reads[name] = value
        return left

    def _keep_copies(self, reads: dict, names, generation: int) -> None:
        for name in self._copied_names().intersection(names):
            if reads.get(name, _MISSING) is not _MISSING:
                copies.keep(name, reads[name], generation)

    def _announce(self, keys, version=None) -> None:
        """After a write: the copied keys among `keys` (all of them: None) changed."""
        copied = self._copied_names()
        if not copied:
            return
        names = [process_copies.EVERY_KEY] if keys is None else [self.make_key(k, version) for k in keys]
        names = [name for name in names if name in copied or name == process_copies.EVERY_KEY]
        if names:
            process_copies.changed(self._cache.get_client(write=True), names)

    def get(self, key, default=None, version=None):
        reads = _request_reads.get()
        if reads is None:
            try:
                return super().get(key, default, version)
            except UNREACHABLE as exc:
                _unreachable("get", exc)
                return default
        value = self._remembered(reads, [key], version)[0]
        return default if value is _MISSING else value

    def get_many(self, keys, version=None):
        reads = _request_reads.get()
        if reads is None:
            return self._get_many(keys, version)
        keys = list(keys)
        values = self._remembered(reads, keys, version)
        return {key: value for key, value in zip(keys, values, strict=True) if value is not _MISSING}

    def _get_many(self, keys, version):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            _unreachable("get_many", exc)
            return {}

    def _remembered(self, reads: dict, keys: list, version) -> list:
        """The values of `keys` (or _MISSING), from what this request has read, the
        others in one round trip (with the read-ahead keys on the request's first)."""
        made = [self.make_key(key, version) for key in keys]
        wanted = self._from_copies(
            reads, {key: name for key, name in zip(keys, made, strict=True) if name not in reads}
        )
        generation = copies.generation()
        if wanted and _AHEAD_READ not in reads and version is None:
            reads[_AHEAD_READ] = True
            wanted.update({key: self.make_key(key) for key in _read_ahead if key not in wanted})
            wanted = self._from_copies(reads, {key: name for key, name in wanted.items() if name not in reads})
            through = _request_through.get()
            if through is not None:
                self._read_through(reads, list(wanted.values()), *through)
                self._keep_copies(reads, wanted.values(), generation)
                wanted = {}
        if wanted:
            found = self._get_many(list(wanted), version)
            for key, name in wanted.items():
                reads[name] = found.get(key, _MISSING)
            self._keep_copies(reads, wanted.values(), generation)
        return [reads[name] for name in made]

    def _read_through(self, reads: dict, made: list[str], owner: str, named: Callable[[], list[str]], pointer: str):
        owner_key = self.make_key(owner)
        templates = [self.make_key(key) for key in named()]
        pointer = pointer and self.make_key(pointer)
        client = self._cache.get_client()
        if self._through is None:
            self._through = client.register_script(_READ_THROUGH)
        try:
            values = self._through(keys=[*made, owner_key], args=[pointer, *templates], client=client)
        except UNREACHABLE as exc:
            _unreachable("read_through", exc)
            values = []
        values += [None] * (len(made) + 3 + len(templates) - len(values))
        loads = self._cache._serializer.loads
        for name, value in zip([*made, owner_key], values, strict=False):
            reads[name] = _MISSING if value is None else loads(value)
        found = reads[owner_key]
        if not isinstance(found, int):  # what an owner key holds; anything else names nothing
            return
        more = values[len(made) + 1 :]
        for template, value in zip(templates, more, strict=False):
            reads[template.replace(OWNER, str(found))] = _MISSING if value is None else loads(value)
        if pointer:
            target, value = more[len(templates)], more[len(templates) + 1]
            reads[pointer.replace(OWNER, str(found))] = _MISSING if target is None else target.decode()
            if target is not None:
                reads[target.decode()] = _MISSING if value is None else loads(value)

    def point(self, pointer: str, target: str, timeout: int) -> None:
        """Write `pointer` to name `target` (as made keys, unpickled: the Lua script
        reads it), unless this request read it naming `target` already."""
        pointer, target = self.make_key(pointer), self.make_key(target)
        reads = _request_reads.get()
        if reads is not None and reads.get(pointer) == target:
            return
        try:
            self._cache.get_client(write=True).set(pointer, target, ex=timeout)
        except UNREACHABLE as exc:
            _unreachable("point", exc)
        if reads is not None:
            reads[pointer] = target

    def _forget(self, keys, version=None) -> None:
        reads = _request_reads.get()
        if reads:
            for key in keys:
                reads.pop(self.make_key(key, version), None)

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            _unreachable("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._forget([key], version)
        try:
            added = super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            # As if added: no other process can hold the key in a cache nobody reaches.
            # A lock taken with add (allauth's rate limits) is then taken, and the limit
            # allows: refusing would keep every customer from signing in.
            _unreachable("add", exc)
            return True
        if added:
            self._announce([key], version)
        return added

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._forget([key], version)
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("set", exc)
        self._announce([key], version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        self._forget(data, version)
        try:
            failed = super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("set_many", exc)
            failed = list(data)
        self._announce(data, version)
        return failed

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            _unreachable("touch", exc)
            return False

    def delete(self, key, version=None):
        self._forget([key], version)
        try:
            deleted = super().delete(key, version)
        except UNREACHABLE as exc:
            _unreachable("delete", exc)
            deleted = False
        self._announce([key], version)
        return deleted

    def delete_many(self, keys, version=None):
        keys = list(keys)
        self._forget(keys, version)
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            _unreachable("delete_many", exc)
        self._announce(keys, version)

    def incr(self, key, delta=1, version=None):
        self._forget([key], version)
        value = super().incr(key, delta, version)
        self._announce([key], version)
        return value

    def clear(self):
        reads = _request_reads.get()
        if reads:
            reads.clear()
        try:
            cleared = super().clear()
        except UNREACHABLE as exc:
            _unreachable("clear", exc)
            cleared = False
        self._announce(None)
        return cleared
