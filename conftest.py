"""Fixtures shared by every app's tests.

Here, only what every test gets:
- `_clean_cache` (autouse): the cache (Redis) is emptied around each test.
- `_default_language` (autouse): each test starts in the default language, whatever
  the one before left active (a French page, a customer's email).

The others are plugins of their own in cloudportal/testing/, one per concern:
- `smtp_server` (cloudportal.testing.smtp): a real SMTP server (aiosmtpd) that Django
  sends to.
- `celery_worker` (cloudportal.testing.worker): a real Celery worker process on a
  Redis broker of its own; `celery_conf`: change the test process's Celery app for
  one test.
- `browser`, `page`, `portal` (cloudportal.testing.browser): Chromium through
  Playwright against the live server; a console error or a CSP violation fails the
  test.
- `faults`, `portal_server` (cloudportal.testing.faults): the real stack with faults to
  inject: a prefork worker whose pool process a test kills, a Redis and an SMTP server
  of its own to stop and start, a TCP proxy that cuts PostgreSQL's connections.
- `embedded_portal` (cloudportal.testing.embedded): a real `manage.py runserver` on
  the embedded settings (SQLite, no broker, console email), as `make run` serves it.
- `pgbouncers`, `through_pgbouncer` (cloudportal.testing.pgbouncer): a real PgBouncer in
  transaction mode in front of the test database; Django's connection through it for
  one test.
- `standby`, `replica` (cloudportal.testing.replica): a real streaming standby of the
  test cluster (pg_basebackup, a hot standby on a port of its own) and, for one test,
  the `replica` database alias on it, as DATABASE_REPLICA_URL makes it.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

pytest_plugins = [
    "cloudportal.testing.smtp",
    "cloudportal.testing.worker",
    "cloudportal.testing.browser",
    "cloudportal.testing.embedded",
    "cloudportal.testing.faults",
    "cloudportal.testing.pgbouncer",
    "cloudportal.testing.replica",
]


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits live in the cache (Redis): no test inherits another's counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
