import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from cloudportal.outbox import email_queue

#: After the right password for a locked account: which account, and when, so that
#: the "inactive" page can tell its owner more (and tell nobody else anything).
INACTIVE_SIGN_IN_KEY = "accounts_inactive_sign_in"
INACTIVE_SIGN_IN_SECONDS = 600


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

    def respond_user_inactive(self, request, user):
        """allauth calls this only once the password (or passkey) was right."""
        request.session[INACTIVE_SIGN_IN_KEY] = {"user": user.pk, "at": time.time()}
        return super().respond_user_inactive(request, user)

    def save_user(self, request, user, form, commit=True):
        """A new customer keeps the language they were browsing in."""
        language = getattr(request, "LANGUAGE_CODE", None)
        if language in dict(settings.LANGUAGES):
            user.language = language
        return super().save_user(request, user, form, commit=commit)


def _same_address(context: dict) -> bool:
    old, new = context.get("from_email") or "", context.get("to_email") or ""
    return old.lower() == new.lower()


def inactive_sign_in_user_id(request) -> int | None:
    """The locked account whose password this browser gave in the last minutes, if
    any (see `AccountAdapter.respond_user_inactive`)."""
    found = request.session.get(INACTIVE_SIGN_IN_KEY) or {}
    if time.time() - found.get("at", 0) > INACTIVE_SIGN_IN_SECONDS:
        return None
    return found.get("user")
