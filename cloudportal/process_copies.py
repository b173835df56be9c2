"""Cache keys that every request reads and that change rarely (the statement's
state), kept in each web process's memory, and dropped in every process as soon as
any process writes them: told through Redis (publish and subscribe, CHANNEL).

A visitor's /privacy/ otherwise costs one cache round trip for the statement's state
alone, a quarter of its time. The cache backend (cloudportal/cache.py) asks here
first, inside requests only, for the keys registered with `copied`; each write of
such a key through the backend (a new version published, the beat switching over,
`cache.clear()`) drops the copy in its own process at once and publishes the key's
name, so that every other process drops its copy when the message arrives: within
a millisecond on one host, a few under load (the listening thread waits for the
interpreter). A request already being answered then is answered with what it read,
as if it had begun a moment earlier.

A copy is used only while the process's listening thread is subscribed and has
heard from Redis in the last ALIVE_SECONDS (it pings every PING_SECONDS): a
connection that breaks, or goes silent, drops every copy, and until the thread has
subscribed again every read goes to Redis, as without copies. A copy is also dropped
after COPY_SECONDS whatever happens (a key that expires in Redis says nothing).
A value read while a message arrives is not kept (each message moves a generation
on). Only immutable values should be copied: every request shares the object.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

logger = logging.getLogger(__name__)

CHANNEL = "cloudportal:copies-changed"
#: What a message names when every copy must go (the cache was cleared).
EVERY_KEY = "*"
PING_SECONDS = 1.0
ALIVE_SECONDS = 3.0
COPY_SECONDS = 60.0
#: Between two attempts to subscribe again.
RETRY_SECONDS = 1.0

#: The copied keys (as the code names them; the backend makes their names).
COPIED: list[str] = []
#: Nothing is copied under a name (a key missing in Redis is not copied either).
NONE = object()


class _Copies:
    def __init__(self) -> None:
        self._values: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._subscribed = False
        self._heard = 0.0
        self._url: str | None = None
        self._pid: int | None = None

    def listen(self, url: str) -> None:
        """Start this process's listening thread, once (again after a fork)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self._url = os.getpid(), url
            self._values.clear()
            self._subscribed = False
            threading.Thread(target=self._listen, name="process-copies", daemon=True).start()

    def active(self) -> bool:
        return self._subscribed and time.monotonic() - self._heard < ALIVE_SECONDS

    def generation(self) -> int:
        return self._generation

    def get(self, name: str) -> object:
        found = self._values.get(name)
        if found is None or not self.active() or time.monotonic() >= found[0]:
            return NONE
        return found[1]

    def keep(self, name: str, value: object, generation: int) -> None:
        """Keep `value`, read from Redis, unless a message came since `generation`."""
        with self._lock:
            if generation == self._generation and self.active():
                self._values[name] = (time.monotonic() + COPY_SECONDS, value)

    def drop(self, names) -> None:
        with self._lock:
            self._generation += 1
            if EVERY_KEY in names:
                self._values.clear()
            for name in names:
                self._values.pop(name, None)

    def _heard_now(self) -> None:
        self._heard = time.monotonic()

    def _listen(self) -> None:
        pid, outage = os.getpid(), False
        while pid == os.getpid():
            try:
                self._subscription()
            except (redis.RedisError, OSError) as exc:
                if not outage:
                    logger.warning("process copies: not listening (%s); reading from the cache", type(exc).__name__)
                outage = True
            self._subscribed = False
            self.drop([EVERY_KEY])
            time.sleep(RETRY_SECONDS)

    def _subscription(self) -> None:
        client = redis.Redis.from_url(self._url, socket_connect_timeout=1, socket_timeout=ALIVE_SECONDS)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            pinged = 0.0
            while True:
                now = time.monotonic()
                if now - self._heard >= ALIVE_SECONDS and self._subscribed:
                    raise redis.TimeoutError("no answer to the pings")
                if now - pinged >= PING_SECONDS:
                    pubsub.ping("alive")
                    pinged = now
                message = pubsub.get_message(timeout=PING_SECONDS / 2)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self.drop([EVERY_KEY])  # what was published while not listening is unknown
                    self._subscribed = True
                elif message["type"] == "message":
                    self.drop(message["data"].decode().split(" "))
                self._heard_now()
        finally:
            pubsub.close()
            client.close()


copies = _Copies()


def copied(*keys: str) -> None:
    """Keep these keys in each web process (registered by the apps at start-up)."""
    COPIED.extend(key for key in keys if key not in COPIED)


def changed(client: redis.Redis, names: list[str]) -> None:
    """These copied keys (their made names) have just been written: drop this
    process's copies, and tell the others."""
    copies.drop(names)
    try:
        client.publish(CHANNEL, " ".join(names))
    except (redis.RedisError, OSError) as exc:
        # Redis has gone between the two: the other processes' listeners lose it
        # too, and drop their copies.
        logger.warning("process copies: change not published (%s)", type(exc).__name__)
