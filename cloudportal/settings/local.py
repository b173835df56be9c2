"""The embedded default: what `make run` and `manage.py` use with nothing set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=True)
# The embedded schedule (cloudportal/jobs.py) logs each job it runs; Celery's own line
# for every task run in-process would say it twice.
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405
