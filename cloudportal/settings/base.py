"""Settings shared by every way CloudPortal runs.

Every value comes from the environment (django-environ). With nothing set, the
portal runs embedded: SQLite, tasks in-process, emails printed to the console.
Production sets the environment; see the README's table and `.env.example`.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from .database import database_pooled
from .queues import CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_QUEUES, CELERY_TASK_ROUTES  # noqa: F401 - settings
from .schedule import CELERY_BEAT_SCHEDULE  # noqa: F401 - settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _embedded_secret_key() -> str:
    """A random key kept in .local/ so embedded sessions survive restarts."""
    from django.core.management.utils import get_random_secret_key

    LOCAL_DIR.mkdir(exist_ok=True)
    path = LOCAL_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _embedded_encryption_key() -> str:
    """A Fernet key kept in .local/ for the embedded portal."""
    from cryptography.fernet import Fernet

    LOCAL_DIR.mkdir(exist_ok=True)
    path = LOCAL_DIR / "field_encryption_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


# --- Core -------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=None) or _embedded_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
OPERATOR_NAME = env("OPERATOR_NAME", default="CloudPortal Networks")
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    # First: its runserver (cloudportal/core/management/commands/) wraps whitenoise's
    # and starts the embedded schedule.
    "cloudportal.core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
    "accounts",
    "devices",
    "accesslogs",
    "policies",
    "compliance",
    "exports",
    "erasure",
    "authorities",
    "portal",
]

# Each web process keeps /healthz's answer (a failed one too) this many seconds; 0: ask
# the database and the broker on every probe (cloudportal/health.py).
HEALTHZ_CACHE_SECONDS = env.float("HEALTHZ_CACHE_SECONDS", default=1.0)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cloudportal.core.middleware.HealthCheckMiddleware",
    "cloudportal.core.csp.KeptPolicyCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionOwnerMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cloudportal.core.middleware.ReplicaReadYourWritesMiddleware",
    "cloudportal.core.middleware.FreshPagesMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SuspendedAccountMiddleware",
    "cloudportal.core.middleware.PrivatePagesNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cloudportal.core.middleware.UserSessionActivityMiddleware",
    "policies.middleware.StatementAcceptanceMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "cloudportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cloudportal.core.context_processors.portal",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded: the schedule's thread (cloudportal/jobs.py) writes beside the server's
    # request threads. A transaction takes the write lock as it begins, so that two
    # never deadlock upgrading read locks ("database is locked" at once); the other
    # waits for its turn instead.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
#: "pgbouncer" when DATABASE_URL is PgBouncer in transaction mode (see settings/database.py).
DATABASE_POOLER = env("DATABASE_POOLER", default="")
database_pooled(DATABASES["default"], pooler=DATABASE_POOLER)

# A read replica (optional): a PostgreSQL streaming standby for the read-only pages'
# heavy reads (cloudportal/replica.py decides which, and when the primary must serve).
DATABASE_REPLICA_CONNECT_TIMEOUT = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=10)
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=3600)
DATABASE_ROUTERS = ["cloudportal.replica.ReplicaRouter"]


def replica_database(primary: dict) -> dict | None:
    """The `replica` alias from DATABASE_REPLICA_URL (None without it): a short
    connect timeout, so that a replica that is down costs a page little before it
    reads from the primary; a test mirror of the primary (no test database of its
    own: the standby replicates the primary's)."""
    url = env("DATABASE_REPLICA_URL", default="")
    if not url:
        return None
    replica = env.db_url_config(url)
    replica["CONN_MAX_AGE"] = primary.get("CONN_MAX_AGE", 0)
    replica["CONN_HEALTH_CHECKS"] = True
    replica.setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_REPLICA_CONNECT_TIMEOUT
    replica["TEST"] = {"MIRROR": "default"}
    return replica


if (_replica := replica_database(DATABASES["default"])) is not None:
    DATABASES["replica"] = _replica
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "cloudportal.cache.TolerantRedisCache",
            # Unreachable, Redis costs a page at most these seconds (see cloudportal/cache.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cloudportal",
        }
    }
else:
    # Embedded: the database cache still works across processes, which the
    # sign-in rate limits need; locmem would not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cloudportal_cache",
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # from the cache, written through to the database

FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [_embedded_encryption_key()]

# --- Passwords and sign-in (django-allauth) ---------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [  # Django's and allauth's, the signed-in user read from the cache
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "policies.forms.StatementSignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{OPERATOR_NAME}] "
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=300)
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins: per address and per client IP.
    "login_failed": env("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "manage_email": "10/m/user",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    # The locked account's sign-in page sending the deletion confirmation again.
    "erasure_resend": "3/h/key,20/h/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = OPERATOR_NAME
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)
# Activity is tracked by cloudportal.core.middleware.UserSessionActivityMiddleware, at
# most once per USERSESSION_ACTIVITY_SECONDS per session, instead of on every request.
USERSESSIONS_TRACK_ACTIVITY = False
USERSESSION_ACTIVITY_SECONDS = env.int("USERSESSION_ACTIVITY_SECONDS", default=300)
# The dashboard's cards and charts are kept rendered in the cache (cloudportal/fragments.py)
# at most this long; they are replaced at once whenever what they show changes.
FRAGMENT_CACHE_SECONDS = env.int("FRAGMENT_CACHE_SECONDS", default=24 * 3600)

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
#: Dates as "1 Dec 2026, 22:00" / "1 déc. 2026, 22:00" on every page, email and export.
FORMAT_MODULE_PATH = ["cloudportal.formats"]
LANGUAGE_COOKIE_NAME = "cloudportal_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Devices and access logs ------------------------------------------------

#: Sessions are erased this many months after they started (SPEC §2).
ACCESS_LOG_RETENTION_MONTHS = env.int("ACCESS_LOG_RETENTION_MONTHS", default=12)
#: Monthly partitions of the sessions table created ahead of time (PostgreSQL).
ACCESS_LOG_PARTITIONS_AHEAD = env.int("ACCESS_LOG_PARTITIONS_AHEAD", default=3)
#: Sessions the retention sweep deletes per transaction in the month on the boundary.
ACCESS_LOG_SWEEP_BATCH = env.int("ACCESS_LOG_SWEEP_BATCH", default=10_000)
#: Seconds after which the `roll-up-ingest-batches` beat job rolls up a stored batch
#: whose own task has not run (the broker lost it).
INGEST_ROLLUP_CATCH_UP_SECONDS = env.int("INGEST_ROLLUP_CATCH_UP_SECONDS", default=120)
#: Largest request body accepted by POST /api/ingest/sessions, in bytes.
INGEST_MAX_BYTES = env.int("INGEST_MAX_BYTES", default=64 * 1024 * 1024)

# --- Legal holds and disclosures ---------------------------------------------

#: The transparency report of a half-year is published this many days after it ends.
TRANSPARENCY_DELAY_DAYS = env.int("TRANSPARENCY_DELAY_DAYS", default=30)

# --- Privacy statement --------------------------------------------------------

#: A material change to the statement is announced at least this many days ahead.
POLICY_NOTICE_DAYS = env.int("POLICY_NOTICE_DAYS", default=30)

# --- Static files -----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# --- Data export and account erasure ----------------------------------------

#: Where data exports (ZIP files of a customer's data) are written; never served
#: directly: the portal hands each file to its owner only.
EXPORT_ROOT = env.path("EXPORT_ROOT", default=str(Path(MEDIA_ROOT) / "exports"))
#: Days an export can be downloaded; the beat job then deletes the file.
EXPORT_VALID_DAYS = env.int("EXPORT_VALID_DAYS", default=7)
#: Seconds after which an export still being built counts as left by a worker that died
#: (the beat job `exports_catch_up` queues it again): past the task's hard time limit.
EXPORT_BUILD_LEASE_SECONDS = env.int(
    "EXPORT_BUILD_LEASE_SECONDS", default=env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60) + 60
)
#: Hours between asking to delete the account and its erasure; 0 erases at once. A
#: fraction is allowed, to see it happen in a demonstration (0.01: 36 seconds).
ERASURE_GRACE_HOURS = env.float("ERASURE_GRACE_HOURS", default=24)
#: The erasure ledger's append-only copy, kept outside the database (on storage that a
#: database restore does not roll back), re-applied after a restore.
ERASURE_LEDGER_PATH = env.path("ERASURE_LEDGER_PATH", default=str(LOCAL_DIR / "erasure-ledger.jsonl"))
#: Key of the ledger's keyed hashes of erased addresses; SECRET_KEY when unset.
ERASURE_LEDGER_KEY = env("ERASURE_LEDGER_KEY", default="") or SECRET_KEY

# --- Authority requests -----------------------------------------------------

#: Longest window of an IP address lookup, and of a MAC address or account lookup, in days.
AUTHORITY_IP_WINDOW_MAX_DAYS = env.int("AUTHORITY_IP_WINDOW_MAX_DAYS", default=31)
AUTHORITY_LOOKUP_MAX_DAYS = env.int("AUTHORITY_LOOKUP_MAX_DAYS", default=366)
#: Key of the disclosure packages' HMAC-SHA256 signature; SECRET_KEY when unset
#: (embedded only: production requires its own, so it survives a SECRET_KEY rotation).
DISCLOSURE_SIGNING_KEY = env("DISCLOSURE_SIGNING_KEY", default="") or SECRET_KEY

# --- Email ------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{OPERATOR_NAME} <privacy@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: Emails sent over one SMTP connection, and senders working side by side on a backlog.
EMAIL_CHUNK_SIZE = env.int("EMAIL_CHUNK_SIZE", default=200)
EMAIL_SENDERS = env.int("EMAIL_SENDERS", default=2)
#: Seconds a sender holds the emails it claimed; a dead sender's emails go out after.
EMAIL_CLAIM_SECONDS = env.int("EMAIL_CLAIM_SECONDS", default=600)
#: A failed email is tried again after this many seconds times 2 to the number of
#: attempts (2, 4, 8, ... minutes by default).
EMAIL_RETRY_SECONDS = env.int("EMAIL_RETRY_SECONDS", default=60)

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL) or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL and not env("CELERY_BROKER_URL", default="")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
#: Run CELERY_BEAT_SCHEDULE inside the process of `manage.py runserver` (a thread, see
#: cloudportal/jobs.py): on by default when there is no broker (embedded), where no beat
#: runs; production runs Celery beat instead. Each job's last run is kept in the file.
EMBEDDED_SCHEDULE = env.bool("EMBEDDED_SCHEDULE", default=CELERY_TASK_ALWAYS_EAGER)
EMBEDDED_SCHEDULE_STATE = env.path("EMBEDDED_SCHEDULE_STATE", default=str(LOCAL_DIR / "embedded-schedule.json"))

# --- Security and logging: cloudportal/settings/security.py ----------------

from .security import *  # noqa: E402, F403
