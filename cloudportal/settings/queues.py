"""Celery's queues and the route of every task (imported by settings/base.py).

Three queues, and a Procfile worker kind for each (a worker started without -Q, as
embedded tests and a one-machine install run it, consumes all three, taking from
each in turn):
- transactional: the one email a customer waits for (verification, password reset,
  erasure confirmation and receipt, device removal: `email_deliver`), never behind
  bulk work, so a statement notice to a million customers never delays a reset;
- bulk: work measured in minutes over many rows (notices and announcements queued,
  chunk senders, the retention sweep, exports and disclosure packages, the usage
  rollup of ingest batches);
- celery (the default): the rest, short jobs of the beat and an account's erasure.
Every task is listed, the default ones too (a test checks that none is forgotten).
"""

from kombu import Queue

CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("transactional"), Queue("bulk"), Queue("celery")]
CELERY_TASK_ROUTES = {
    "cloudportal.outbox.tasks.email_deliver": {"queue": "transactional"},
    "cloudportal.outbox.tasks.emails_send_chunk": {"queue": "bulk"},
    "policies.tasks.statement_notices_queue": {"queue": "bulk"},
    "policies.tasks.announcement_emails_queue": {"queue": "bulk"},
    "portal.tasks.retention_sweep": {"queue": "bulk"},
    "exports.tasks.export_build": {"queue": "bulk"},
    "authorities.tasks.disclosure_package_build": {"queue": "bulk"},
    "accesslogs.tasks.batch_roll_up": {"queue": "bulk"},
    "accesslogs.tasks.batches_catch_up": {"queue": "bulk"},
    "cloudportal.outbox.tasks.emails_send_pending": {"queue": "celery"},
    "accounts.tasks.data_requests_remind": {"queue": "celery"},
    "policies.tasks.statements_switch_over": {"queue": "celery"},
    "exports.tasks.exports_expire": {"queue": "celery"},
    "exports.tasks.exports_catch_up": {"queue": "celery"},  # queues the builds again (bulk)
    "policies.tasks.bulk_emails_catch_up": {"queue": "celery"},  # queues the tasks again (bulk)
    "authorities.tasks.disclosure_packages_catch_up": {"queue": "celery"},  # likewise
    "erasure.tasks.account_erase": {"queue": "celery"},
    "erasure.tasks.erasures_due_queue": {"queue": "celery"},
    "authorities.tasks.disclosure_packages_expire": {"queue": "celery"},
}
