from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from cloudportal.outbox import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """allauth's emails go through the portal's outbox, in text and HTML, in the
    recipient's language."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from .selectors import user_for_email

        user = context.get("user") or user_for_email(email=email)
        language = getattr(user, "language", None) or translation.get_language()
        site = SimpleNamespace(name=settings.OPERATOR_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        ctx = {"email": email, "current_site": site, **context}
        ctx.pop("request", None)
        email_queue(to=email, template=template_prefix, context=ctx, language=language, user=user)

    def send_notification_mail(self, template_prefix: str, user, context: dict | None = None, email=None) -> None:
        """No security email "changed from X to X": "Make primary" on the address
        that already is primary changes nothing (allauth would still announce it)."""
        if template_prefix == "account/email/email_changed" and _same_address(context or {}):
            return
        super().send_notification_mail(template_prefix, user, context=context, email=email)

    def save_user(self, request, user, form, commit=True):
        """A new customer keeps the language they were browsing in."""
        language = getattr(request, "LANGUAGE_CODE", None)
        if language in dict(settings.LANGUAGES):
            user.language = language
        return super().save_user(request, user, form, commit=commit)


def _same_address(context: dict) -> bool:
    old, new = context.get("from_email") or "", context.get("to_email") or ""
    return old.lower() == new.lower()
