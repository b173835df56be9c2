"""The messages of a chunk, as Django email messages and as the bytes SMTP's DATA
sends: rows rendered at delivery (a mass mailing) share their bodies, built once per
chunk, and differ only by their To and Message-ID headers."""

from __future__ import annotations

import json
import re
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

from cloudportal.core.models import OutboundEmail

from .render import RenderedEmail, email_context_load, email_render

_LEADING_DOT = re.compile(rb"(?m)^\.")

_PLACEHOLDER = "recipient@placeholder.invalid"
_MESSAGE_ID = re.compile(rb"^Message-ID: [^\r]*\r\n", re.MULTILINE | re.IGNORECASE)


def _stuffed(data: bytes) -> bytes:
    """Message bytes as sent inside DATA: leading dots doubled, ending with CRLF."""
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class ChunkRenderer:
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
