"""What an email says: its subject, text and HTML bodies, rendered from templates in
the recipient's language, and the absolute links emails carry.

Templates follow allauth's naming, so allauth's messages go through the same path:

    <prefix>_subject.txt   one line
    <prefix>_message.txt   the text alternative
    <prefix>_message.html  the HTML alternative (optional: without it the text is
                           wrapped in templates/emails/layout.html)

A mass mailing's rows keep a small context instead of their bodies (see
`email_context_load`) and are rendered when delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string

#: Emails sent to an address that has no account (yet): their footer does not say
#: "because you have an account".
NO_ACCOUNT_YET = frozenset({"account/email/email_confirmation_signup", "account/email/unknown_account"})


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
        "no_account_yet": template in NO_ACCOUNT_YET,
        **context,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).splitlines()).strip()
        text = render_to_string(f"{template}_message.txt", ctx).strip()
        try:  # the HTML's <title> is the subject
            html = render_to_string(f"{template}_message.html", {**ctx, "subject": subject}).strip()
        except TemplateDoesNotExist:
            html = render_to_string("emails/layout.html", {**ctx, "subject": subject, "text": text}).strip()
    return RenderedEmail(subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", text=text, html=html)


def email_context_load(context: dict) -> dict:
    """The template context of a row rendered at delivery. `{"loader": "dotted.path",
    "args": {...}}` calls the loader with the args (ids, so the row stays small);
    anything else is the context itself."""
    if "loader" in context:
        return import_string(context["loader"])(**context.get("args", {}))
    return dict(context)
