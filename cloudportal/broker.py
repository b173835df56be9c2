"""Queueing a task when the broker may be down.

A task queued after a commit (`queue_on_commit`) is a side effect of a change already
stored: if the broker (Redis) cannot take it, the change stays, the customer's
request still succeeds, and the warning names the task. Every task queued this way has
a beat job that finds its work from the database and queues it again (README, Tasks:
"What a broker outage loses and what catches it up").
"""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def queue_now(task, *args) -> bool:
    """`task.delay(*args)`; False, with a warning, if the broker cannot be reached."""
    try:
        task.delay(*args)
    except BrokerError as exc:
        logger.warning(
            "broker unreachable (%s): %s not queued; its catch-up job will queue it", type(exc).__name__, task.name
        )
        return False
    return True


def queue_on_commit(task, *args, using: str | None = None) -> None:
    """Queue `task` once the current transaction commits (like `delay_on_commit`),
    never raising for a broker that is down."""
    transaction.on_commit(lambda: queue_now(task, *args), using=using)
