"""The outbox: the one way the portal sends email.

An email is an `OutboundEmail` row (cloudportal/core/models.py) before anything else,
handed to a worker only once the surrounding transaction commits, and sent so that
nobody gets it twice. The package's files:

    render.py   templates -> subject, text and HTML bodies; links for emails
    queue.py    one email, or a mass mailing, stored as rows; the hand-off after commit
    claim.py    sender slots, claims of due rows and their expiry, ANALYZE after bulk
    message.py  a chunk's messages as MIME and as the bytes of SMTP's DATA
    send.py     a chunk over one SMTP connection: the dialogue, marking sent, failures
    tasks.py    the Celery tasks, and starting senders

Imports go one way: tasks.py uses the others and nothing imports tasks.py but this
file. Queuing must start a task, so queue.py takes what to call after commit as an
argument, and `email_queue` and `emails_queue_bulk` here are queue.py's with the
tasks' functions bound: call these.
"""

from functools import partial, update_wrapper

from . import queue as _queue
from .claim import emails_claim, emails_due_count
from .render import RenderedEmail, absolute_url, email_context_load, email_render
from .send import ChunkResult, email_deliver, emails_send_chunk
from .tasks import email_deliver_soon, emails_send_pending, emails_send_soon

email_queue = update_wrapper(
    partial(_queue.email_queue, deliver=email_deliver_soon, send_soon=emails_send_soon), _queue.email_queue
)
emails_queue_bulk = update_wrapper(
    partial(_queue.emails_queue_bulk, send_soon=emails_send_soon), _queue.emails_queue_bulk
)

#: The work itself (send.py's email_deliver and emails_send_chunk, run in this
#: process); the Celery tasks of the same names are in tasks.py.
__all__ = [
    "ChunkResult",
    "RenderedEmail",
    "absolute_url",
    "email_context_load",
    "email_deliver",
    "email_queue",
    "email_render",
    "emails_claim",
    "emails_due_count",
    "emails_queue_bulk",
    "emails_send_chunk",
    "emails_send_pending",
    "emails_send_soon",
]
