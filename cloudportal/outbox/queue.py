"""Putting email in the outbox: one message, or a mass mailing, stored as rows first
and handed on only once the surrounding transaction commits.

`email_queue` renders a message in the recipient's language, as text and HTML, and
stores it as an `OutboundEmail` row, transactional unless told it is bulk mail. Mass
mailings are queued with `emails_queue_bulk` (one INSERT ... SELECT, one row per
recipient, unique per `dedup_key`), as bulk mail, and rendered when delivered.
Senders take every due transactional email before any bulk one (claim.py).

Neither function knows Celery: each takes what starts the delivery (`deliver`,
`send_soon`) as an argument, and the package (`cloudportal.outbox`) binds them to its
tasks. Call the package's `email_queue` and `emails_queue_bulk`, not these.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cloudportal.core.models import OutboundEmail
from cloudportal.fragments import customer_changed, everyone_changed

from .claim import outbox_analyze
from .render import email_context_load, email_render


def email_queue(
    *,
    to: str,
    template: str,
    context: dict | None = None,
    language: str | None = None,
    user=None,
    headers: dict | None = None,
    dedup_key: str | None = None,
    forget_recipient: bool = False,
    priority: int = OutboundEmail.Priority.TRANSACTIONAL,
    deliver: Callable[[int], object],
    send_soon: Callable[..., object] | None = None,
) -> OutboundEmail:
    """Store the message and, after the current transaction commits, call
    `deliver(email_id)` (the package's `email_queue` hands it to a worker of its own
    queue). Bulk mail (`priority` BULK: an announcement to every customer who opted
    in) is not handed over one by one: `send_soon(count=1)` starts senders instead,
    which take it after any transactional email.

    With a `dedup_key`, a message already queued under that key is returned
    instead and nothing new is stored or sent. With `forget_recipient`, the address
    is cleared from the row once the message is sent or given up (the final receipt
    of an erased account)."""
    if user is not None and language is None:
        language = getattr(user, "language", None)
    if dedup_key is not None and (existing := OutboundEmail.objects.filter(dedup_key=dedup_key).first()):
        return existing
    rendered = email_render(template=template, context={"user": user, **(context or {})}, language=language)
    email = OutboundEmail(
        user=user if user is not None and user.pk else None,
        to=to,
        template=template,
        subject=rendered.subject[:500],
        body_text=rendered.text,
        body_html=rendered.html,
        headers=headers or {},
        next_attempt_at=timezone.now(),
        language=language or "",
        dedup_key=dedup_key,
        forget_recipient=forget_recipient,
        priority=priority,
    )
    if dedup_key is None:
        email.save()
    else:
        # A concurrent caller may have stored the same key since the check above.
        OutboundEmail.objects.bulk_create([email], ignore_conflicts=True)
        email = OutboundEmail.objects.get(dedup_key=dedup_key)
        customer_changed(email.user_id)  # no signal from bulk_create
    email_id = email.pk
    if priority == OutboundEmail.Priority.BULK and send_soon is not None:
        send_soon(count=1)
    else:
        transaction.on_commit(lambda: deliver(email_id))
    return email


def emails_queue_bulk(
    *,
    recipients: QuerySet,
    template: str,
    context: dict,
    dedup_prefix: str,
    send_soon: Callable[..., object],
) -> int:
    """Queue one message per recipient in one INSERT ... SELECT, as bulk mail;
    returns how many new rows were stored. `recipients` is a queryset of users. The body is rendered
    when delivered, from `context` (see `email_context_load`), in each recipient's
    language; the subject is rendered now, once per language. Each row's dedup key
    is `dedup_prefix` + the user's id: queuing again stores nothing twice.

    If rows were stored, `send_soon(count=stored)` starts senders for them once the
    transaction commits (the package's `emails_queue_bulk` passes the tasks' one)."""
    languages = [code for code, _name in settings.LANGUAGES]
    subjects = {
        code: email_render(template=template, context=email_context_load(context), language=code).subject
        for code in languages
    }
    users = recipients.order_by().values("id", "email", "language")
    users_sql, users_params = users.query.sql_with_params()
    table = OutboundEmail._meta.db_table
    postgres = connection.vendor == "postgresql"
    language_case = "CASE u.language " + " ".join("WHEN %s THEN %s" for _ in languages) + " ELSE %s END"
    language_params = [value for code in languages for value in (code, code)] + [settings.LANGUAGE_CODE]
    subject_case = "CASE u.language " + " ".join("WHEN %s THEN %s" for _ in languages) + " ELSE %s END"
    subject_params = [value for code in languages for value in (code, subjects[code][:500])]
    subject_params.append(subjects[settings.LANGUAGE_CODE][:500])
    json_cast = "CAST(%s AS jsonb)" if postgres else "%s"
    now = timezone.now()
    sql = f"""
        INSERT INTO {table} (user_id, "to", template, subject, body_text, body_html, headers, status, attempts,
                             last_error, created_at, next_attempt_at, sent_at, dedup_key, language, context, claim,
                             claimed_until, forget_recipient, priority)
        SELECT u.id, u.email, %s, {subject_case}, '', '', {json_cast}, %s, 0, '', %s, %s, NULL,
               %s || CAST(u.id AS text), {language_case}, {json_cast}, '', NULL, false, %s
        FROM ({users_sql}) AS u
        WHERE true
        ON CONFLICT (dedup_key) DO NOTHING
    """  # noqa: S608 - table and SQL fragments are the project's own; values are parameters
    # (WHERE true: SQLite needs it to tell ON CONFLICT from a join constraint.)
    params = [
        template,
        *subject_params,
        "{}",
        OutboundEmail.Status.PENDING,
        now,
        now,
        dedup_prefix,
        *language_params,
        json.dumps(context),
        int(OutboundEmail.Priority.BULK),
        *users_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored = cursor.rowcount
    outbox_analyze(stored=stored)
    if stored:
        everyone_changed()  # "What we hold" lists the recipients' emails
        send_soon(count=stored)
    return stored
