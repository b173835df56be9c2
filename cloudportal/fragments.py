"""Rendered parts of a customer's pages, kept in the cache until what they show changes.

A customer's pages (cloudportal/core/customer_pages.py) and their usage charts cost
milliseconds of queries and templates, and change rarely: `kept` keeps what they
render in the cache (Redis), so that a stale copy is never shown. An entry's key
names what it depends on, and the entry holds the tokens it was built under; it
counts only while they are the current ones (both read in one round trip):

- the customer, and a version token of theirs, replaced by `customer_changed` each
  time something of theirs changes (see "What replaces the tokens" below);
- a version token of everyone's (`everyone_changed`: a legal hold, a retention
  sweep, a staff member's write in the admin), for what concerns many customers;
- in the key: the language, the local date (what is "recent", the charts' last 30
  days), the settings every page shows, and the caller's own parts (the statement
  state, a query string, the path);
- in the key: the release, a digest of the code, templates and catalogues, so that a
  deploy never shows the previous release's HTML.

What changes with the passing of time alone (a legal hold reaching its expiry)
is registered by its app with `changes_with_time`: the moment of the next such
change is kept in the cache, and the first request after it replaces everyone's
token.

A token is random, never a counter: a token lost from the cache (evicted, Redis
restarted) is replaced by a new one, and nothing stored under an old one is found
again. A change replaces the token at once and again once its transaction commits:
a page built between the two, from data not committed yet, is kept with the first
token, which is already out of date by then. With the cache unreachable, every
token is new on every request: the parts are built each time, never stale.

The parts are built from the primary database, never from a read replica: a part
built from a lagging replica would be kept with the newest token.

What replaces the tokens: every save and delete of the registry's models (through
`models_watched`, connected in `cloudportal.core.apps`; the owner is the instance's
`user_id`, the user itself, or everyone when the model has no owner such as a legal
hold); every write request of a signed-in customer, once done
(`cloudportal.core.middleware.FreshPagesMiddleware`), and of a staff member (everyone);
and the bulk writes that bypass the ORM's signals: the usage rollup (the customers of
the batch), the retention sweep and the erasure (see their modules).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import django
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from cloudportal.cache import point
from cloudportal.replica import primary_reads

T = TypeVar("T")

EVERYONE_KEY = "fragments:everyone"
#: When the next change that no write announces comes (a legal hold's expiry): a
#: timestamp, or NO_CHANGE_AHEAD; missing, it is asked of `_change_sources`.
NEXT_CHANGE_KEY = "fragments:next-change"
NO_CHANGE_AHEAD = "none"
#: Models whose rows are written in bulk (COPY, batched upserts and deletes): the code
#: that writes them says who changed instead.
BULK_MODELS = {"accesslogs.NetworkSession", "accesslogs.DailyUsage"}
#: Models with many rows a customer: saves are watched, deletes are not (a delete
#: signal makes every cascade load their rows one by one); what deletes them (the
#: erasure, the retention of each) says who changed.
MANY_ROWS_MODELS = {"accounts.ActivityEvent", "core.OutboundEmail"}
#: Top-level folders of the project that do not render pages.
_NOT_RENDERING = {"bench", "backups", "staticfiles", "static", "node_modules", "scripts"}


def customer_token_key(user_id: int | str) -> str:
    """The cache key of the customer's token (`user_id` may be a placeholder)."""
    return f"fragments:customer:{user_id}"


def _tokens_replace(keys: list[str]) -> None:
    token = secrets.token_hex(8)
    cache.set_many(dict.fromkeys(keys, token), timeout=None)  # one round trip however many


def _replaced(keys: list[str]) -> None:
    if keys:
        _tokens_replace(keys)
        transaction.on_commit(lambda: _tokens_replace(keys))


def customer_changed(*user_ids: int | None) -> None:
    """Something the customers' pages show has changed (or is about to commit)."""
    _replaced([customer_token_key(u) for u in {u for u in user_ids if u is not None}])


def customers_changed_on_commit(user_ids: Iterable[int]) -> None:
    """`customer_changed` for many customers, once the transaction commits only
    (ingest: one cache round trip a batch, after it)."""
    keys = [customer_token_key(u) for u in set(user_ids)]
    if keys:
        transaction.on_commit(lambda: _tokens_replace(keys))


def everyone_changed() -> None:
    """Something that may change any customer's pages has changed (and the next
    change that comes with time may have moved: it is asked again)."""
    _replaced([EVERYONE_KEY])
    cache.delete(NEXT_CHANGE_KEY)
    transaction.on_commit(lambda: cache.delete(NEXT_CHANGE_KEY))


#: Callables `now -> datetime | None`: the next moment something the pages show
#: changes by itself, with the passing of time (registered by the apps, at start-up).
_change_sources: list[Callable[[datetime], datetime | None]] = []


def changes_with_time(source: Callable[[datetime], datetime | None]) -> None:
    """Register `source(now)`: when, after `now`, the pages change without a write (a
    hold expiring): then everyone's token is replaced."""
    _change_sources.append(source)


def _next_change(now: datetime) -> str:
    found = [when for source in _change_sources if (when := source(now)) is not None]
    return min(found).isoformat() if found else NO_CHANGE_AHEAD


def _time_passed(next_change: str | None, now: datetime) -> bool:
    """Whether the moment of the next change has come (then everyone's token goes),
    asking the sources and keeping their answer when it is not known."""
    if next_change is None:
        cache.set(NEXT_CHANGE_KEY, _next_change(now), timeout=None)
        return False
    if next_change == NO_CHANGE_AHEAD or datetime.fromisoformat(next_change) > now:
        return False
    cache.set(NEXT_CHANGE_KEY, _next_change(now), timeout=None)
    _tokens_replace([EVERYONE_KEY])
    return True


def _tokens(keys: list[str], also: list[str]) -> tuple[list[str], dict]:
    """The tokens under `keys` (a new one where none is kept), and what the cache
    holds under `also`, read in the same round trip."""
    found = cache.get_many([*keys, NEXT_CHANGE_KEY, *also])
    if _time_passed(found.get(NEXT_CHANGE_KEY), timezone.now()):
        found = cache.get_many([*keys, *also])
    tokens = []
    for key in keys:
        token = found.get(key)
        if token is None:
            token = secrets.token_hex(8)
            if not cache.add(key, token, timeout=None):
                token = cache.get(key) or token
        tokens.append(token)
    return tokens, found


@lru_cache(maxsize=1)
def release() -> str:
    """A digest of what renders the pages: the project's Python code, templates and
    compiled catalogues, and Django's version (kept users are pickled models); read
    once per process."""
    root = Path(settings.BASE_DIR)
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in _NOT_RENDERING]
    digest = hashlib.blake2b(django.get_version().encode(), digest_size=8)  # what is pickled
    for folder in sorted(folders):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".html", ".mo") and "tests" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _shown_settings() -> tuple:
    """The settings every page shows (the context processor's), which a restart with
    another environment may change without a new release."""
    from cloudportal.core.context_processors import portal

    return tuple(portal(None).values())


#: (language, time zone, the settings pages show) -> (when that local day ends, the
#: digest of what every key names then: the release, those and the local date).
_days: dict[tuple, tuple[float, object]] = {}


def _day_digest():
    """A copy of the digest of what every kept key names for this request's language,
    time zone and local date, made once per day and language in each process."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    named = (get_language(), zone, *_shown_settings())
    found = _days.get(named)
    if found is None or now.timestamp() >= found[0]:
        day = timezone.localtime(now, zone).date()
        ends = datetime.combine(day + timedelta(days=1), dt_time(), tzinfo=zone).timestamp()
        shown = (release(), *named[2:], named[0], day.isoformat())
        if len(_days) >= 64:
            _days.clear()
        _days[named] = found = (ends, hashlib.blake2b(":".join(str(p) for p in shown).encode(), digest_size=8))
    return found[1].copy()


def kept_key(name: str, *, user_id: int | str, parts: Iterable[object]) -> str:
    """The cache key of what `kept` keeps (`user_id` may be a placeholder)."""
    named = _day_digest()
    named.update("".join(f":{p}" for p in parts).encode())
    return f"fragment:{name}:{user_id}:{named.hexdigest()}"


def pointer_key(name: str, *, user_id: int | str, parts: Iterable[object]) -> str:
    """The key of a pointer (`cloudportal.cache.point`) to what `kept` keeps under
    `name` for these parts, the ones known before the customer's data is read (a
    page's path): `user_id` may be a placeholder."""
    named = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8)
    return f"fragments:pointer:{name}:{user_id}:{named.hexdigest()}"


def kept(
    name: str,
    *,
    user_id: int,
    parts: Iterable[object],
    build: Callable[[], T],
    timeout: int | None = None,
    pointer: str = "",
) -> T:
    """This customer's `name` as `build()` makes it (from the primary database), from
    the cache while nothing it shows has changed: one cache round trip when kept.

    The entry's key names the release, the settings pages show, the language, the
    local date and `parts`; the entry holds the tokens it was built under (the
    customer's and everyone's), read before the build, and counts only while they are
    the current ones. It expires after `timeout` seconds (FRAGMENT_CACHE_SECONDS).
    `pointer` (a `pointer_key`) is then written to name the entry, so that a request
    that reads through it has the entry with its first read."""
    key = kept_key(name, user_id=user_id, parts=parts)
    timeout = timeout or settings.FRAGMENT_CACHE_SECONDS
    if pointer:
        point(pointer, key, timeout)
    tokens, found = _tokens([customer_token_key(user_id), EVERYONE_KEY], [key])
    entry = found.get(key)
    if entry is not None and entry[0] == tokens:
        return entry[1]
    with primary_reads():
        value = build()
    cache.set(key, (tokens, value), timeout=timeout)
    return value


def customer_fragment(name: str, *, user_id: int, parts: Iterable[object], build: Callable[[], str]) -> SafeString:
    """The HTML `build()` renders for this customer, from the cache while nothing it
    shows has changed (it must depend only on the customer's data, the language, the
    date and `parts`: not on the request)."""
    html = kept(name, user_id=user_id, parts=parts, build=lambda: str(build()))
    return mark_safe(html)  # noqa: S308 - HTML our templates rendered


# --- Who changed, from the ORM's signals --------------------------------------------


def _owner_changed(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    if sender is _user_model():
        customer_changed(instance.pk)
    elif hasattr(instance, "user_id"):
        customer_changed(instance.user_id)
    else:
        everyone_changed()


def _user_model():
    return apps.get_model(settings.AUTH_USER_MODEL)


def models_watched(labels: Iterable[str]) -> None:
    """Connect the token replacement to the saves and deletes of these models
    (app_label.ModelName): not those in BULK_MODELS, only the saves of MANY_ROWS_MODELS."""
    for label in labels:
        if label in BULK_MODELS:
            continue
        model = apps.get_model(label)
        post_save.connect(_owner_changed, sender=model, dispatch_uid=f"fragments.saved.{label}")
        if label not in MANY_ROWS_MODELS:
            post_delete.connect(_owner_changed, sender=model, dispatch_uid=f"fragments.deleted.{label}")
