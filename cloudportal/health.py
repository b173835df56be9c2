"""What `/healthz` checks: the database and the Celery broker, cheaply enough to be
asked hundreds of times a second by a load balancer.

The broker is reached over one connection per process, opened on the first check
and kept: each check is then one round trip on it (PING for Redis), with a short
timeout. A check that fails drops the connection, and the next one opens a new one,
so a broker that comes back is seen as soon as it answers.

Each process keeps its last answer for HEALTHZ_CACHE_SECONDS (1 by default; 0 asks
on every probe), a failed one as well: a load balancer probing many times a second
costs the database and the broker one round trip each a second per process, a
database that goes down is reported within that time and one that comes back too.
The answer is kept as its status and body, and each probe gets a new response with
the never-cache headers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.http import HttpResponse
from django.utils.http import http_date

logger = logging.getLogger(__name__)

#: Seconds a check waits for the broker (to connect, and for its answer).
BROKER_TIMEOUT = 2

_lock = threading.Lock()
#: The process's broker connection and the URL it was opened for.
_broker: dict = {"url": None, "connection": None}


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database unreachable")
        return False


def _broker_drop() -> None:
    conn, _broker["connection"], _broker["url"] = _broker["connection"], None, None
    if conn is not None:
        with contextlib.suppress(Exception):  # it is dropped for failing already
            conn.release()


def _broker_open(app, url: str):
    options = {
        **(app.conf.broker_transport_options or {}),
        "socket_timeout": BROKER_TIMEOUT,
        "socket_connect_timeout": BROKER_TIMEOUT,
    }
    conn = app.connection_for_write(url, transport_options=options, connect_timeout=BROKER_TIMEOUT)
    conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
    _broker["connection"], _broker["url"] = conn, url
    return conn


def broker_ok() -> bool:
    """Whether the broker answers, on the process's own connection."""
    from cloudportal.celery import app

    url = app.conf.broker_write_url or app.conf.broker_url
    with _lock:
        try:
            if _broker["connection"] is None or _broker["url"] != url:
                _broker_drop()
                conn = _broker_open(app, url)
            else:
                conn = _broker["connection"]
            client = getattr(conn.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()
            else:  # another transport: ask it to (re)connect
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
            return True
        except Exception:  # noqa: BLE001 - any failure means "down"
            logger.warning("healthz: broker unreachable")
            _broker_drop()
            return False


#: The Cache-Control of every answer, as django.utils.cache.add_never_cache_headers writes it.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"

#: The clock of the kept answer (tests move it past the window).
_clock = time.monotonic
_check_lock = threading.Lock()
#: The last answer: (until when it holds on _clock, status code, JSON body).
_last: tuple[float, int, bytes] | None = None


def health_check() -> tuple[int, bytes]:
    """Ask the database and the broker now: the status code and the JSON body."""
    database = "ok" if database_ok() else "down"
    broker = "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else ("ok" if broker_ok() else "down")
    healthy = database == "ok" and broker != "down"
    body = {"status": "ok" if healthy else "down", "database": database, "broker": broker}
    return (200 if healthy else 503), json.dumps(body).encode()


def _answer() -> tuple[int, bytes]:
    """The process's last answer while it holds, else a new one (one thread asks;
    the others wait for its answer rather than asking too)."""
    global _last
    last = _last
    if last is not None and _clock() < last[0]:
        return last[1], last[2]
    with _check_lock:
        last = _last
        if last is not None and _clock() < last[0]:
            return last[1], last[2]
        status, body = health_check()
        _last = (_clock() + settings.HEALTHZ_CACHE_SECONDS, status, body)
        return status, body


def health_forget(**kwargs) -> None:
    """Ask again on the next probe (a setting changed: tests switch the broker)."""
    global _last
    _last = None


setting_changed.connect(health_forget)


def health_response() -> HttpResponse:
    """`/healthz`: 200 when the database and the broker answer, else 503 naming which
    is down ("in-process" when tasks run in-process, embedded); never cached."""
    status, body = _answer()
    response = HttpResponse(body, content_type="application/json", status=status)
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = NEVER_CACHE
    return response
