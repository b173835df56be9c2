"""Worker queues: transactional email, bulk work and the rest on queues of their own."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from cloudportal.outbox import email_queue
from compliance.models import SweepRun

CONTEXT = {"ip": "192.0.2.10", "user_agent": "Firefox", "timestamp": "2025-01-01 10:00"}


def _project_tasks() -> set[str]:
    from cloudportal.celery import app

    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_is_routed_to_a_declared_queue():
    """A new task must be given its queue on purpose (the default one included)."""
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    routes = settings.CELERY_TASK_ROUTES
    assert _project_tasks() - set(routes) == set(), "tasks with no route in CELERY_TASK_ROUTES"
    assert set(routes) - _project_tasks() == set(), "routes of tasks that do not exist"
    assert {route["queue"] for route in routes.values()} == declared


def test_the_customers_waiting_emails_are_transactional_and_mass_work_is_bulk():
    from cloudportal.celery import app

    def queue(task: str) -> str:
        return app.amqp.router.route({}, task)["queue"].name

    assert queue("cloudportal.outbox.tasks.email_deliver") == "transactional"
    for task in (
        "policies.tasks.statement_notices_queue",
        "policies.tasks.announcement_emails_queue",
        "cloudportal.outbox.tasks.emails_send_chunk",
        "portal.tasks.retention_sweep",
        "exports.tasks.export_build",
        "accesslogs.tasks.batch_roll_up",
    ):
        assert queue(task) == "bulk", task
    assert queue("cloudportal.outbox.tasks.emails_send_pending") == "celery"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_password_email_is_delivered_while_the_bulk_queue_is_full(celery_worker, smtp_server):
    """Thirty retention sweeps wait on the bulk queue before a password email is
    queued; the worker (every queue, one task at a time) delivers the email after at
    most a sweep or two, not after the thirty."""
    from portal.tasks import retention_sweep

    backlog = 30
    arrived = []
    smtp_server.on_message = lambda message: arrived.append(timezone.now())
    for _ in range(backlog):
        retention_sweep.delay()
    email_queue(to="ada@example.com", template="account/email/password_changed", context=CONTEXT, language="en")

    smtp_server.wait_for(1, timeout=30, to="ada@example.com")

    # The sweeps go on while the test looks, so count those done before the email came.
    done_before = SweepRun.objects.filter(finished_at__lt=arrived[0]).count()
    assert done_before <= 3, "the email waited behind the bulk work"
    celery_worker.wait_for_tasks("portal.tasks.retention_sweep", count=backlog, timeout=120)
    assert SweepRun.objects.count() == backlog
