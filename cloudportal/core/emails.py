"""The one way the portal sends email.

`email_queue` renders a message from templates in the recipient's language, as text
and HTML, stores it as an `OutboundEmail` row and hands it to a worker once the
surrounding transaction commits. Templates follow allauth's naming, so allauth's
messages go through the same path:

    <prefix>_subject.txt   one line
    <prefix>_message.txt   the text alternative
    <prefix>_message.html  the HTML alternative (optional: without it the text is
                           wrapped in templates/emails/layout.html)


Mass mailings are queued with `emails_queue_bulk` (one INSERT ... SELECT, one row
per recipient, unique per `dedup_key`) and rendered when delivered.

Delivery (`emails_deliver_chunk`) claims a chunk of due rows with SELECT ... FOR
UPDATE SKIP LOCKED, so two senders never hold the same row, and sends the chunk over
one SMTP connection. Each message is written up to its final "." first; the row is
then marked sent (committed), and only then is the "." sent that makes the server
accept the message. A sender killed before that commit leaves no message behind (the
server discards a message whose data never ended) and the row is sent again once its
claim expires; killed after it, the message goes out once. The one case that cannot
be told apart, a connection lost after the "." was sent, counts as sent: nobody gets
a message twice.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import re
import select
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from smtplib import (
    SMTPDataError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    quoteaddr,
)

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from .models import OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def absolute_url(name: str, *args) -> str:
    """A full link to a named page, for emails (which are read outside the site)."""
    return settings.SITE_URL + reverse(name, args=args)


def email_render(*, template: str, context: dict, language: str | None = None) -> RenderedEmail:
    language = language or settings.LANGUAGE_CODE
    ctx = {
        "OPERATOR_NAME": settings.OPERATOR_NAME,
        "SITE_URL": settings.SITE_URL,
        "LANGUAGE_CODE": language,
        **context,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).splitlines()).strip()
        text = render_to_string(f"{template}_message.txt", ctx).strip()
        try:
            html = render_to_string(f"{template}_message.html", ctx).strip()
        except TemplateDoesNotExist:
            html = render_to_string("emails/layout.html", {**ctx, "subject": subject, "text": text}).strip()
    return RenderedEmail(subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", text=text, html=html)


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
) -> OutboundEmail:
    """Store the message and deliver it after the current transaction commits.

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
    )
    if dedup_key is None:
        email.save()
    else:
        # A concurrent caller may have stored the same key since the check above.
        OutboundEmail.objects.bulk_create([email], ignore_conflicts=True)
        email = OutboundEmail.objects.get(dedup_key=dedup_key)
    from .tasks import email_deliver

    email_id = email.pk
    transaction.on_commit(lambda: email_deliver.delay(email_id))
    return email


#: A bulk queuing of at least this many rows refreshes the outbox's statistics.
ANALYZE_AFTER_ROWS = 10_000


def emails_queue_bulk(
    *,
    recipients: QuerySet,
    template: str,
    context: dict,
    dedup_prefix: str,
) -> int:
    """Queue one message per recipient in one INSERT ... SELECT; returns how many
    new rows were stored. `recipients` is a queryset of users. The body is rendered
    when delivered, from `context` (see `email_context_load`), in each recipient's
    language; the subject is rendered now, once per language. Each row's dedup key
    is `dedup_prefix` + the user's id: queuing again stores nothing twice."""
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
                             claimed_until, forget_recipient)
        SELECT u.id, u.email, %s, {subject_case}, '', '', {json_cast}, %s, 0, '', %s, %s, NULL,
               %s || CAST(u.id AS text), {language_case}, {json_cast}, '', NULL, false
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
        *users_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored = cursor.rowcount
        if postgres and stored >= ANALYZE_AFTER_ROWS:
            # The planner still counts the rows there were before: it would read every
            # due row and sort them for each claim instead of the first few in order.
            cursor.execute(f"ANALYZE {table}")
    if stored:
        emails_send_soon(count=stored)
    return stored


def email_context_load(context: dict) -> dict:
    """The template context of a row rendered at delivery. `{"loader": "dotted.path",
    "args": {...}}` calls the loader with the args (ids, so the row stays small);
    anything else is the context itself."""
    if "loader" in context:
        return import_string(context["loader"])(**context.get("args", {}))
    return dict(context)


#: A sender slot with no chunk started for this long is free again (its sender died).
SENDER_HEARTBEAT_SECONDS = 60


def _sender_key(slot: int) -> str:
    return f"outbox:sender:{slot}"


def sender_alive(*, slot: int) -> None:
    cache.set(_sender_key(slot), 1, timeout=SENDER_HEARTBEAT_SECONDS)


def sender_done(*, slot: int) -> None:
    cache.delete(_sender_key(slot))


def emails_send_soon(*, count: int) -> None:
    """After the current transaction commits, start senders for `count` messages:
    one per free sender slot, at most EMAIL_SENDERS, each going on until nothing is
    due. A slot whose sender died is free again after SENDER_HEARTBEAT_SECONDS, so
    the beat task restores the number of senders without ever adding more."""
    from .tasks import emails_send_chunk

    slots = range(min(settings.EMAIL_SENDERS, math.ceil(count / settings.EMAIL_CHUNK_SIZE)))

    def start() -> None:
        for slot in slots:
            if cache.add(_sender_key(slot), 1, timeout=SENDER_HEARTBEAT_SECONDS):
                emails_send_chunk.delay(slot)

    transaction.on_commit(start)


@dataclass
class ChunkResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0


def emails_claim(*, limit: int, ids: list[int] | None = None) -> tuple[str, list[int], datetime]:
    """Claim up to `limit` pending rows (those due, or the `ids` given) for one sender.

    Rows another transaction is claiming are skipped (SKIP LOCKED), as are rows
    whose claim has not expired, so two senders never hold the same row. A claim
    expires after EMAIL_CLAIM_SECONDS: the rows of a sender that died are sent by
    another one then, before any new row.

    Each kind is read from a partial index of its own (`email_due_idx`: pending and
    unclaimed, by due time; `email_claimed_idx`: pending and claimed, by expiry), so
    a claim reads the rows it takes and not the others: while a million notices go
    out, the claimed and sent ones leave the first index instead of being read and
    passed over by every claim after them."""
    token = uuid.uuid4().hex
    now = timezone.now()
    until = now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
    with transaction.atomic():
        pending = OutboundEmail.objects.select_for_update(skip_locked=True).filter(status=OutboundEmail.Status.PENDING)
        if ids is not None:
            rows = pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk__in=ids)
            claimed = list(rows.order_by("pk").values_list("pk", flat=True)[:limit])
        else:
            expired = pending.filter(claimed_until__lt=now).order_by("claimed_until")
            claimed = list(expired.values_list("pk", flat=True)[:limit])
            if len(claimed) < limit:
                due = pending.filter(claimed_until__isnull=True, next_attempt_at__lte=now).order_by("next_attempt_at")
                claimed += due.values_list("pk", flat=True)[: limit - len(claimed)]
        if claimed:
            OutboundEmail.objects.filter(pk__in=claimed).update(claim=token, claimed_until=until)
    return token, claimed, until


class _ClaimLost(Exception):
    """Another sender holds the row now (our claim expired): this one must not send it."""


class _RejectedAfterMark(Exception):
    """The server refused the message at its final "." after the row was marked sent."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


_LEADING_DOT = re.compile(rb"(?m)^\.")


class _Sender:
    """One connection for a chunk. `deliver(message, mark)` calls `mark()` (which
    commits the row as sent) at the last moment before the server accepts."""

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.smtp = isinstance(self.backend, SMTPBackend)

    def open(self) -> None:
        self.backend.open()
        if self.smtp:
            # The final "." is a separate small write after the message: without
            # TCP_NODELAY it would wait for the server's delayed ACK (~40 ms) each time.
            self.backend.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        with contextlib.suppress(OSError, SMTPException):
            self.backend.close()

    def deliver(self, email: OutboundEmail, renderer: _Renderer, mark: Callable[..., bool]) -> None:
        """Send one message. `mark(then)` marks the row sent and calls `then` (which
        sends the final ".") once the mark has left this process."""
        if not self.smtp:
            # Console, memory: nothing can be half-sent.
            self.backend.send_messages([renderer.message(email)])
            if not mark(None):
                raise _ClaimLost
            return
        smtp = self.backend.connection
        sender, recipient, data = renderer.wire(email)
        smtp.ehlo_or_helo_if_needed()
        # smtplib's mail() and rcpt() parse both addresses again for every message.
        smtp.putcmd("mail", f"FROM:{_angled(sender)}")
        code, reply = smtp.getreply()
        if code != 250:
            smtp.rset()
            raise SMTPSenderRefused(code, reply, sender)
        smtp.putcmd("rcpt", f"TO:{_angled(recipient)}")
        code, reply = smtp.getreply()
        if code not in (250, 251):
            smtp.rset()
            raise SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise SMTPDataError(code, reply)
        smtp.send(data)
        try:
            marked = mark(lambda: smtp.send(b".\r\n"))
        except (OSError, SMTPServerDisconnected) as exc:
            # The final "." could not be sent: the server discards the message.
            raise _RejectedAfterMark(exc) from exc
        if not marked:
            # Our claim was taken over (checked against before each message, so this
            # means someone changed the row by hand): stop this chunk.
            logger.error("email %s: sent although its claim was lost", email.pk)
            raise _ClaimLost
        try:
            code, reply = smtp.getreply()
        except (OSError, SMTPServerDisconnected):
            # The whole message reached the server; whether it kept it cannot be known.
            # Counted as sent, so that nobody gets it twice.
            logger.warning("connection lost after a message's end; counted as sent")
            return
        if code != 250:
            raise _RejectedAfterMark(SMTPDataError(code, reply))


#: An address with nothing to unquote or strip: `local@domain`, no name, no spaces.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


@functools.lru_cache(maxsize=16)
def _angled_parsed(address: str) -> str:
    return quoteaddr(address)


def _angled(address: str) -> str:
    """The address as MAIL FROM and RCPT TO take it (`<local@domain>`), as smtplib's
    quoteaddr gives it; a plain address is not parsed, and the few others (the
    sender, with its name) are parsed once."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return _angled_parsed(address)


_PLACEHOLDER = "recipient@placeholder.invalid"
_MESSAGE_ID = re.compile(rb"^Message-ID: [^\r]*\r\n", re.MULTILINE | re.IGNORECASE)


def _stuffed(data: bytes) -> bytes:
    """Message bytes as sent inside DATA: leading dots doubled, ending with CRLF."""
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class _Renderer:
    """Messages of a chunk. Rows rendered at delivery (a mass mailing) share their
    bodies: each template, language and context is rendered and turned into MIME
    once, and each recipient's copy differs only by its To and Message-ID headers."""

    def __init__(self) -> None:
        self._rendered: dict[tuple[str, str, str], RenderedEmail] = {}
        self._wire: dict[tuple, tuple[bytes, bytes]] = {}
        self._sender: str | None = None

    def bodies(self, email: OutboundEmail) -> tuple[str, str]:
        if email.context is None or email.body_text:
            return email.body_text, email.body_html
        key = (email.template, email.language, json.dumps(email.context, sort_keys=True))
        if key not in self._rendered:
            self._rendered[key] = email_render(
                template=email.template,
                context=email_context_load(email.context),
                language=email.language or settings.LANGUAGE_CODE,
            )
        rendered = self._rendered[key]
        return rendered.text, rendered.html

    def message(self, email: OutboundEmail, to: str | None = None) -> EmailMultiAlternatives:
        text, html = self.bodies(email)
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to or email.to],
            headers=email.headers or None,
        )
        if html:
            message.attach_alternative(html, "text/html")
        return message

    def wire(self, email: OutboundEmail) -> tuple[str, str, bytes]:
        """(envelope sender, envelope recipient, DATA bytes) for SMTP."""
        if self._sender is None:
            self._sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
        shared = email.context is not None and not email.body_text and email.to.isascii() and "\n" not in email.to
        if not shared:
            message = self.message(email)
            recipient = sanitize_address(email.to, message.encoding or settings.DEFAULT_CHARSET)
            return self._sender, recipient, _stuffed(message.message().as_bytes(linesep="\r\n"))
        key = (email.template, email.language, json.dumps(email.context, sort_keys=True), email.subject)
        key += (json.dumps(email.headers, sort_keys=True),)
        if key not in self._wire:
            data = self.message(email, to=_PLACEHOLDER).message().as_bytes(linesep="\r\n")
            end = data.index(b"\r\n\r\n") + 2
            self._wire[key] = (data[:end], _stuffed(data[end:]))
        headers, body = self._wire[key]
        headers = headers.replace(f"To: {_PLACEHOLDER}\r\n".encode(), f"To: {email.to}\r\n".encode(), 1)
        message_id = f"Message-ID: {make_msgid(domain=DNS_NAME)}\r\n".encode()
        headers = _MESSAGE_ID.sub(lambda _match: message_id, headers, count=1)
        return self._sender, email.to, headers + body


_MARK_SQL = (
    f"UPDATE {OutboundEmail._meta.db_table} SET status = 'sent', attempts = attempts + 1, sent_at = %s, "  # noqa: S608
    "body_text = '', body_html = '', last_error = '', claim = '', claimed_until = NULL, "
    '"to" = CASE WHEN forget_recipient THEN \'\' ELSE "to" END '
    "WHERE id = %s AND claim = %s AND status = 'pending'"
)


def _mark_sent(*, email_id: int, token: str, then: Callable[[], object] | None = None) -> bool:
    """Mark the row sent (committed); False if it was not ours to mark.

    On PostgreSQL the statement is sent and `then` (the final ".") is called as soon
    as it has left this process, before waiting for the answer: the database commits
    a statement it has received even if the sender dies, so a sender killed at any
    point has either not asked for the mark (no "." sent either: the message is
    retried) or asked for it and sent the "." a few microseconds later. Elsewhere
    the mark is committed first, then `then` runs."""
    params = [timezone.now(), email_id, token]
    if connection.vendor != "postgresql" or then is None:
        with connection.cursor() as cursor:
            cursor.execute(_MARK_SQL, params)
            marked = cursor.rowcount == 1
        if then is not None:
            then()
        return marked
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    sql = _MARK_SQL.replace("%s", "$1", 1).replace("%s", "$2", 1).replace("%s", "$3", 1).encode()
    pgconn.send_query_params(sql, [params[0].isoformat().encode(), str(email_id).encode(), token.encode()])
    while pgconn.flush():  # 1 while part of the statement is still to be written
        select.select([], [pgconn.socket], [])
    try:
        then()
    finally:
        rows = _pg_rows_changed(pgconn)
    return rows == 1


def _pg_rows_changed(pgconn) -> int:
    """Wait for the results of a statement sent with send_query_params."""
    from psycopg import pq

    rows = 0
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return rows
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise DatabaseError(result.error_message.decode(errors="replace"))
        rows += result.command_tuples or 0


def _failure_record(*, email: OutboundEmail, error: Exception) -> None:
    """A failed attempt: back off, or give up after MAX_ATTEMPTS; the claim is released."""
    # The error class only: SMTP errors can echo the recipient back.
    email.attempts += 1
    email.last_error = type(error).__name__
    email.status = OutboundEmail.Status.PENDING
    email.sent_at = None
    if email.attempts >= MAX_ATTEMPTS:
        email.status = OutboundEmail.Status.FAILED
        if email.forget_recipient:
            email.to = ""
        logger.error("email %s failed for good after %s attempts", email.pk, email.attempts)
    else:
        email.next_attempt_at = timezone.now() + timedelta(minutes=2**email.attempts)
        logger.warning("email %s not sent (%s), will retry", email.pk, email.last_error)
    OutboundEmail.objects.filter(pk=email.pk).update(
        attempts=email.attempts,
        last_error=email.last_error,
        status=email.status,
        sent_at=None,
        next_attempt_at=email.next_attempt_at,
        claim="",
        claimed_until=None,
        to=email.to,
    )


def emails_deliver_chunk(*, limit: int | None = None, ids: list[int] | None = None) -> ChunkResult:
    """Claim a chunk of due rows (or the `ids` given) and send it over one connection.

    Safe to run twice or at once (see the module's docstring). A message the server
    refuses is retried with backoff; a connection that cannot be opened puts the
    whole chunk off."""
    limit = limit or settings.EMAIL_CHUNK_SIZE
    token, claimed, claimed_until = emails_claim(limit=limit, ids=ids)
    # Stop well before the claim expires and another sender may take the rows.
    stop_at = claimed_until - timedelta(seconds=settings.EMAIL_CLAIM_SECONDS / 4)
    result = ChunkResult(claimed=len(claimed))
    if not claimed:
        return result
    emails = list(OutboundEmail.objects.filter(pk__in=claimed, claim=token).order_by("pk"))
    sender = _Sender()
    postgres = connection.vendor == "postgresql"
    try:
        sender.open()
    except (OSError, SMTPException) as exc:
        for email in emails:
            _failure_record(email=email, error=exc)
        result.failed = len(emails)
        return result
    renderer = _Renderer()
    if postgres:
        # The "sent" marks are committed one by one; a worker killed after a commit
        # cannot undo it, so waiting for the disk on each would only slow delivery.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        for email in emails:
            if timezone.now() >= stop_at:
                logger.warning("chunk stopped before its claim expires; the rest is released")
                break
            try:
                sender.deliver(
                    email, renderer, lambda then, pk=email.pk: _mark_sent(email_id=pk, token=token, then=then)
                )
            except _ClaimLost:
                logger.warning("email %s: claim lost to another sender; chunk stopped", email.pk)
                break
            except _RejectedAfterMark as exc:
                _failure_record(email=email, error=exc.error)
                result.failed += 1
            except (SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError) as exc:
                _failure_record(email=email, error=exc)
                result.failed += 1
            except (OSError, SMTPException) as exc:
                # The connection is gone: this row is retried later, the others are released.
                _failure_record(email=email, error=exc)
                result.failed += 1
                break
            else:
                result.sent += 1
    finally:
        sender.close()
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
    # Rows left untried go back to the pool at once. A sender that dies instead
    # (killed, or interrupted by a BaseException) leaves them claimed until the
    # claim expires: whether its last message went out is then settled by its mark.
    OutboundEmail.objects.filter(claim=token, status=OutboundEmail.Status.PENDING).update(claim="", claimed_until=None)
    return result


def email_deliver_now(*, email_id: int) -> bool:
    """Send one pending email. Safe to call twice or at once: a claimed or sent row
    is never sent again. Returns True if sent."""
    return emails_deliver_chunk(ids=[email_id], limit=1).sent == 1


def emails_due_count(*, cap: int = 100_000) -> int:
    """How many pending emails are due now (counted up to `cap`): unclaimed and due,
    or claimed by a sender whose claim has expired."""
    now = timezone.now()
    pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
    expired = pending.filter(claimed_until__lt=now)[:cap].count()
    return expired + pending.filter(claimed_until__isnull=True, next_attempt_at__lte=now)[: cap - expired].count()
