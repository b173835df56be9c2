"""The beat schedule (imported by settings/base.py): what Celery beat runs in production,
and what the embedded schedule (cloudportal/jobs.py) runs inside `manage.py runserver`
when there is no broker. `python manage.py run_job NAME` runs one entry by its name.
"""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    "send-pending-emails": {
        "task": "cloudportal.outbox.tasks.emails_send_pending",
        "schedule": 60.0,
    },
    "remind-staff-of-data-requests": {
        "task": "accounts.tasks.data_requests_remind",
        "schedule": 24 * 60 * 60.0,
    },
    "retention-sweep": {
        "task": "portal.tasks.retention_sweep",
        "schedule": crontab(hour=3, minute=15),
    },
    "roll-up-ingest-batches": {
        "task": "accesslogs.tasks.batches_catch_up",
        "schedule": 5 * 60.0,
    },
    "statement-switch-over": {
        "task": "policies.tasks.statements_switch_over",
        "schedule": 60.0,
    },
    "catch-up-data-exports": {
        "task": "exports.tasks.exports_catch_up",
        "schedule": 5 * 60.0,
    },
    "catch-up-bulk-emails": {
        "task": "policies.tasks.bulk_emails_catch_up",
        "schedule": 5 * 60.0,
    },
    "catch-up-disclosure-packages": {
        "task": "authorities.tasks.disclosure_packages_catch_up",
        "schedule": 5 * 60.0,
    },
    "expire-data-exports": {
        "task": "exports.tasks.exports_expire",
        "schedule": 60 * 60.0,
    },
    "run-due-account-erasures": {
        "task": "erasure.tasks.erasures_due_queue",
        "schedule": 5 * 60.0,
    },
    "expire-disclosure-packages": {
        "task": "authorities.tasks.disclosure_packages_expire",
        "schedule": 60 * 60.0,
    },
}
