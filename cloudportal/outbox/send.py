"""Sending: a chunk of claimed rows over one SMTP connection, each row marked sent at
the last moment, and failures put off with a backoff.

`emails_send_chunk` claims a chunk of due rows (see claim.py) and sends it over
one connection. Each message is written up to its final "." first; the row is then
marked sent (committed), and only then is the "." sent that makes the server accept
the message. A sender killed before that commit leaves no message behind (the
server discards a message whose data never ended) and the row is sent again once its
claim expires; killed after it, the message goes out once. The one case that cannot
be told apart, a connection lost after the "." was sent, counts as sent: nobody gets
a message twice.

A sender working through bulk mail asks every TRANSACTIONAL_CHECK_SECONDS whether a
transactional email is waiting (one index probe); if so, it claims those and sends
them next, over the same connection, before the rest of its chunk.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import select
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from smtplib import (
    SMTPDataError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    quoteaddr,
)

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, connection
from django.utils import timezone

from cloudportal.core.models import OutboundEmail

from .claim import emails_claim, transactional_due
from .message import ChunkRenderer

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

#: How often a sender busy on bulk mail looks for a transactional email to send next.
TRANSACTIONAL_CHECK_SECONDS = 0.25


@dataclass
class ChunkResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0


class _ClaimLost(Exception):
    """Another sender holds the row now (our claim expired): this one must not send it."""


class _RejectedAfterMark(Exception):
    """The server refused the message at its final "." after the row was marked sent."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Sender:
    """One connection for a chunk. `deliver(email, renderer, mark)` calls `mark()`
    (which commits the row as sent) at the last moment before the server accepts."""

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

    def deliver(self, email: OutboundEmail, renderer: ChunkRenderer, mark: Callable[..., bool]) -> None:
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
    pgconn.send_query(_mark_query(pgconn, params))
    while pgconn.flush():  # 1 while part of the statement is still to be written
        select.select([], [pgconn.socket], [])
    try:
        then()
    finally:
        rows = _pg_rows_changed(pgconn)
    return rows == 1


def _mark_query(pgconn, params: list) -> bytes:
    """The mark as one simple query, which PostgreSQL runs as one transaction: its
    commit does not wait for the disk (`SET LOCAL synchronous_commit`, for this
    transaction only: through PgBouncer in transaction mode a session's SET would stay
    on the server connection for other clients). A mark committed once cannot be
    undone by a worker killed after it, so waiting for the disk would only slow
    delivery."""
    from psycopg import pq

    escaping = pq.Escaping(pgconn)
    values = (params[0].isoformat(), str(params[1]), params[2])
    sent_at, email_id, token = (escaping.escape_literal(v.encode()).decode() for v in values)
    mark = _MARK_SQL % (sent_at, email_id, token)
    return f"SET LOCAL synchronous_commit TO OFF; {mark}".encode()


def _pg_rows_changed(pgconn) -> int:
    """Wait for the results of the statements sent with send_query."""
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
        email.next_attempt_at = timezone.now() + timedelta(seconds=settings.EMAIL_RETRY_SECONDS * 2**email.attempts)
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


def _transactional_claim(*, limit: int) -> list[OutboundEmail]:
    """The transactional emails waiting, claimed (by a token of their own), if any."""
    if not transactional_due():
        return []
    token, claimed, _until = emails_claim(limit=limit, priorities=(OutboundEmail.Priority.TRANSACTIONAL,))
    return list(OutboundEmail.objects.filter(pk__in=claimed, claim=token).order_by("pk"))


def emails_send_chunk(*, limit: int | None = None, ids: list[int] | None = None) -> ChunkResult:
    """Claim a chunk of due rows (or the `ids` given) and send it over one connection.

    Safe to run twice or at once (see the module's docstring). A message the server
    refuses is retried with backoff; a connection that cannot be opened puts the
    whole chunk off. While it sends bulk mail, transactional emails queued meanwhile
    are claimed and sent next."""
    limit = limit or settings.EMAIL_CHUNK_SIZE
    token, claimed, claimed_until = emails_claim(limit=limit, ids=ids)
    # Stop well before the claim expires and another sender may take the rows.
    stop_at = claimed_until - timedelta(seconds=settings.EMAIL_CLAIM_SECONDS / 4)
    result = ChunkResult(claimed=len(claimed))
    if not claimed:
        return result
    emails = deque(OutboundEmail.objects.filter(pk__in=claimed, claim=token).order_by("pk"))
    tokens = {token}
    sender = _Sender()
    try:
        sender.open()
    except (OSError, SMTPException) as exc:
        for email in emails:
            _failure_record(email=email, error=exc)
        result.failed = len(emails)
        return result
    renderer = ChunkRenderer()
    check_at = time.monotonic() + TRANSACTIONAL_CHECK_SECONDS
    try:
        while emails:
            if timezone.now() >= stop_at:
                logger.warning("chunk stopped before its claim expires; the rest is released")
                break
            if emails[0].priority == OutboundEmail.Priority.BULK and time.monotonic() >= check_at:
                check_at = time.monotonic() + TRANSACTIONAL_CHECK_SECONDS
                if urgent := _transactional_claim(limit=limit):
                    tokens.add(urgent[0].claim)
                    emails.extendleft(reversed(urgent))
            email = emails.popleft()
            try:
                sender.deliver(
                    email,
                    renderer,
                    lambda then, pk=email.pk, claim=email.claim: _mark_sent(email_id=pk, token=claim, then=then),
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
    # Rows left untried go back to the pool at once. A sender that dies instead
    # (killed, or interrupted by a BaseException) leaves them claimed until the
    # claim expires: whether its last message went out is then settled by its mark.
    OutboundEmail.objects.filter(claim__in=tokens, status=OutboundEmail.Status.PENDING).update(
        claim="", claimed_until=None
    )
    return result


def email_deliver(*, email_id: int) -> bool:
    """Send one pending email. Safe to call twice or at once: a claimed or sent row
    is never sent again. Returns True if sent."""
    return emails_send_chunk(ids=[email_id], limit=1).sent == 1
