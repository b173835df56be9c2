"""What `/healthz` checks: the database and the Celery broker, cheaply enough to be
asked hundreds of times a second by a load balancer.

The broker is reached over one connection per process, opened on the first check
and kept: each check is then one round trip on it (PING for Redis), with a short
timeout. A check that fails drops the connection, and the next one opens a new one,
so a broker that comes back is seen as soon as it answers.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers

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


def health_response() -> JsonResponse:
    """`/healthz`: 200 when the database and the broker answer, else 503 naming which
    is down ("in-process" when tasks run in-process, embedded)."""
    database = "ok" if database_ok() else "down"
    broker = "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else ("ok" if broker_ok() else "down")
    healthy = database == "ok" and broker != "down"
    response = JsonResponse(
        {"status": "ok" if healthy else "down", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )
    add_never_cache_headers(response)
    return response
