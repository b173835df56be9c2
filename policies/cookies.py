"""The cookies the portal sets, as data for /privacy/cookies/. The names come from
the settings that choose them, so the page stays true if a name changes."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str | Promise
    lifetime: str | Promise
    when: str | Promise


def cookies_set_by_the_portal() -> list[Cookie]:
    return [
        Cookie(
            name=settings.SESSION_COOKIE_NAME,
            purpose=_("Keeps you signed in from page to page."),
            lifetime=_("Until you sign out or close the browser, at most two weeks"),
            when=_("When you sign in"),
        ),
        Cookie(
            name=settings.CSRF_COOKIE_NAME,
            purpose=_("Protects the portal's forms against requests forged by other sites."),
            lifetime=_("One year"),
            when=_("When you open a page with a form"),
        ),
        Cookie(
            name=settings.LANGUAGE_COOKIE_NAME,
            purpose=_("Remembers the language you chose for the portal."),
            lifetime=_("Until you close the browser"),
            when=_("When you choose a language"),
        ),
        Cookie(
            name="messages",
            purpose=_("Carries a confirmation message (such as “Saved”) to the next page."),
            lifetime=_("Until the message has been shown"),
            when=_("After you change something"),
        ),
    ]
