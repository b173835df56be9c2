"""The test suite: PostgreSQL and Redis, as production runs."""

from .base import *  # noqa: F403
from .base import DATABASE_POOLER, LOCAL_DIR, env, replica_database
from .database import database_pooled

DEBUG = False
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cloudportal"),
}
database_pooled(DATABASES["default"], pooler=DATABASE_POOLER)
# The suite's replica tests make a standby of their own (cloudportal/testing/replica.py);
# DATABASE_REPLICA_URL is for the benchmarks, which run on these settings.
if (_replica := replica_database(DATABASES["default"])) is not None:
    DATABASES["replica"] = _replica
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "cloudportal.cache.TolerantRedisCache",
        # Unreachable, Redis costs a page at most these seconds (see cloudportal/cache.py).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cloudportal-test",
    }
}
# Tasks run in-process unless a test starts a real worker (cloudportal/testing/worker.py),
# which sets these for the worker process; the test process switches its Celery app itself.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Tests that need the embedded schedule start one themselves (cloudportal.jobs).
EMBEDDED_SCHEDULE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Emails stay in memory, unless TEST_EMAIL_URL names the test SMTP server (the real
# worker, cloudportal/testing/worker.py). Not EMAIL_URL, so a developer's .env never
# sends real mail.
_test_email = env.email_url("TEST_EMAIL_URL", default="memorymail://")
EMAIL_BACKEND = _test_email["EMAIL_BACKEND"]
EMAIL_HOST = _test_email.get("EMAIL_HOST") or ""
EMAIL_PORT = _test_email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _test_email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _test_email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _test_email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _test_email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 5
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=["Y2xvdWRwb3J0YWwtdGVzdC1rZXktMDAwMDAwMDAwMCE="])
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Files written by tests (and by the test worker, which reads these settings too).
EXPORT_ROOT = env.path("EXPORT_ROOT", default=str(LOCAL_DIR / "test-exports"))
ERASURE_LEDGER_PATH = env.path("ERASURE_LEDGER_PATH", default=str(LOCAL_DIR / "test-erasure-ledger.jsonl"))
# Pause points of the fault tests (cloudportal/faults.py): set only for the worker and
# server processes they start (cloudportal/testing/faults.py); no other settings have it.
FAULT_PAUSE_DIR = env("TEST_FAULT_PAUSE_DIR", default="")
# The fault tests' `celery beat` runs every job this often, in seconds (0: as scheduled).
if _beat_every := env.float("TEST_BEAT_EVERY", default=0):
    CELERY_BEAT_SCHEDULE = {name: {**entry, "schedule": _beat_every} for name, entry in CELERY_BEAT_SCHEDULE.items()}  # noqa: F405
