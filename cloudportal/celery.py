"""The Celery app. Configuration lives in Django settings under CELERY_*."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudportal.settings.local")

app = Celery("cloudportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The outbox is a package of the ground floor, not an installed app: named here.
app.autodiscover_tasks(["cloudportal.outbox"])
