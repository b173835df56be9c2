"""The read replica: which reads may go to it, and the router that sends them there.

With `DATABASE_REPLICA_URL` set, settings add a `replica` database alias (a
PostgreSQL streaming standby). Nothing goes to it unless code asks: the read-only
pages' heavy reads (/logs/ and its CSV) through `@replica_view`, and the export
build through `replica_or_primary`. The dashboard and "What we hold" are kept
rendered in the cache and built from the primary (cloudportal/fragments.py): a part
built from a lagging replica would be kept as if it were current. Every write,
every read inside a transaction on the primary and everything else stays on the
primary (`default`). Without a replica, all of this is a no-op.

Read-your-writes: after a customer writes (any POST, PUT, PATCH or DELETE of theirs,
by `ReplicaReadYourWritesMiddleware`, or `customer_wrote` from a service), the
primary's WAL position (`pg_current_wal_lsn()`) is kept in the cache for that
customer. Their next replica read first asks the replica whether it has replayed up
to there (`pg_last_wal_replay_lsn()`); if not, it reads from the primary. A lagging
replica therefore never shows a customer what they changed, removed or erased,
however long it lags, and a replica that keeps up serves them as soon as it has
replayed their write (no fixed pin time to guess). Other customers are not
affected by one customer's writes.

A replica that is down (refused, timed out, or failing a query) is remembered as
down for `DATABASE_REPLICA_RETRY_SECONDS` in this process; meanwhile everything
reads from the primary. The failed page or build is done again once, on the
primary, so the portal stays up.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
T = TypeVar("T")

#: The alias reads go to while set (None: the router leaves reads to the primary).
_reading_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("cloudportal_replica", default=None)
#: time.monotonic() until which this process treats the replica as down.
_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _lsn_key(user_id: int) -> str:
    return f"replica-lsn:{user_id}"


def read_alias() -> str:
    """Where reads go now (the router's answer): `replica` inside a replica block
    that chose it, unless the primary's connection is in a transaction (what it
    wrote must be read there); `default` otherwise. For code that uses a connection
    directly (`connections[read_alias()]`), as the export's COPY does."""
    alias = _reading_from.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


# --- Down -----------------------------------------------------------------------


def replica_failed() -> None:
    """Remember the replica as down for DATABASE_REPLICA_RETRY_SECONDS, and drop
    this thread's connection to it (a new one is tried after that time)."""
    global _down_until
    _down_until = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    logger.warning(
        "read replica unavailable: reading from the primary for %ss", settings.DATABASE_REPLICA_RETRY_SECONDS
    )
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


def replica_reset() -> None:
    """Forget that the replica was down (tests; an operator's shell)."""
    global _down_until
    _down_until = 0.0


# --- Read-your-writes -------------------------------------------------------------


def customer_wrote(*, user_id: int) -> None:
    """Record the primary's WAL position after a customer's write (call after the
    commit): until the replica has replayed it, that customer reads the primary."""
    if not replica_configured() or user_id is None:
        return
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            lsn = cursor.fetchone()[0]
        cache.set(_lsn_key(user_id), lsn, timeout=settings.DATABASE_REPLICA_PIN_SECONDS)
    except Exception:  # noqa: BLE001 - the write is done; say so rather than fail the page
        logger.warning("read replica: could not record a customer's write position")


def _replica_has_replayed(lsn: str) -> bool:
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
        return bool(cursor.fetchone()[0])


def replica_for(*, user_id: int | None = None) -> str | None:
    """`replica` if the heavy reads for this customer (or for no one in particular)
    may go to the replica now, else None (the primary). Asks the replica its replay
    position only if the customer wrote in the last DATABASE_REPLICA_PIN_SECONDS."""
    if not replica_configured() or time.monotonic() < _down_until:
        return None
    if user_id is not None:
        try:
            lsn = cache.get(_lsn_key(user_id))
        except Exception:  # noqa: BLE001 - without the cache we cannot tell: the primary is right
            logger.warning("read replica: cache unavailable, reading from the primary")
            return None
        if lsn is not None:
            try:
                if not _replica_has_replayed(lsn):
                    return None
            except DatabaseError:
                replica_failed()
                return None
    return REPLICA


# --- Blocks of reads ---------------------------------------------------------------


@contextlib.contextmanager
def reads_from_replica(*, user_id: int | None = None) -> Iterator[str]:
    """Inside, the router sends reads to the replica if `replica_for` allows it;
    yields the alias chosen. No retry: see `replica_or_primary`."""
    alias = replica_for(user_id=user_id)
    token = _reading_from.set(alias)
    try:
        yield alias or DEFAULT_DB_ALIAS
    finally:
        _reading_from.reset(token)


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Inside, reads go to the primary, even within a replica view: for what is kept
    after the request (a cached part of a page must not come from a lagging replica)."""
    token = _reading_from.set(None)
    try:
        yield
    finally:
        _reading_from.reset(token)


def replica_or_primary(work: Callable[[], T], *, user_id: int | None = None) -> T:
    """`work()` with its reads on the replica (as `reads_from_replica`); if a
    database error stops it there (the replica down or gone, a query cancelled by
    its replay, a COPY cut off), once more on the primary, where an error that is
    not the replica's is raised again. `work` must be safe to run again (reads, or
    writes it redoes from the start)."""
    with reads_from_replica(user_id=user_id) as alias:
        if alias == DEFAULT_DB_ALIAS:
            return work()
        try:
            return work()
        except DatabaseError:
            replica_failed()
    return work()


def replica_view(view: Callable) -> Callable:
    """A read-only view whose reads go to the replica when the signed-in customer's
    own last write has been replayed there (else, or if the replica fails, to the
    primary)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        return replica_or_primary(lambda: view(request, *args, **kwargs), user_id=user_id)

    return wrapper


def replica_iter(items: Iterator[T], alias: str) -> Iterator[T]:
    """`items` read with the router on `alias`, for a streamed response whose rows
    are read after the view has returned; each step runs in the replica block."""
    if alias == DEFAULT_DB_ALIAS:
        yield from items
        return
    iterator = iter(items)
    while True:
        token = _reading_from.set(alias)
        try:
            item = next(iterator)
        except StopIteration:
            return
        except DatabaseError:
            replica_failed()  # too late for this response (it has begun): the next one
            raise
        finally:
            _reading_from.reset(token)
        yield item


# --- The router --------------------------------------------------------------------


class ReplicaRouter:
    """Reads inside a replica block go to the replica, unless the primary's
    connection is in a transaction (what it has written must be read there too).
    Writes, migrations and everything else: the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
