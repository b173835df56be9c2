"""The test suite: PostgreSQL and Redis, as production runs."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cloudportal"),
}
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cloudportal-test",
    }
}
# Tasks run in-process unless a test starts a real worker (see conftest.py).
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=["dGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="])
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
