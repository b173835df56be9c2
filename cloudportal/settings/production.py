"""Production: secrets and services must come from the environment.

A missing SECRET_KEY, DATABASE_URL, REDIS_URL, FIELD_ENCRYPTION_KEYS or
DISCLOSURE_SIGNING_KEY stops the process at start-up rather than running on an
unsafe default.
"""

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY, DATABASE_POOLER, env, replica_database
from .database import database_pooled

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
database_pooled(DATABASES["default"], pooler=DATABASE_POOLER)
if (_replica := replica_database(DATABASES["default"])) is not None:
    DATABASES["replica"] = _replica
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "cloudportal.cache.TolerantRedisCache",
        # Unreachable, Redis costs a page at most these seconds (see cloudportal/cache.py).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cloudportal",
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
DISCLOSURE_SIGNING_KEY = env("DISCLOSURE_SIGNING_KEY")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY,
    "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"], "upgrade-insecure-requests": True},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
