"""Sign-in sessions (allauth.usersessions), as the customer reads and ends them: each
named by its browser and operating system (ua-parser, rules from its builtins
package), with where from, since when and when last active.

allauth's page ends every other session at once; here one can be ended too, through
allauth's usersessions adapter (which deletes the session itself, so that browser is
signed out on its next request). allauth asks for no re-authentication to end
sessions, and neither does this. Each ending is recorded in the activity history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ua_parser import parse

from .models import ActivityEvent, User
from .services import activity_record

#: The name the activity history gives what was ended (accounts/views.py labels it).
ACTIVITY_FIELD = "sign_in_sessions"


@dataclass(frozen=True)
class Client:
    browser: str  # "Firefox 141", or "" when the user agent does not say
    system: str  # "Windows 10", "iOS 17.4", or ""
    device: str  # "iPhone", "Samsung SM-S911B", or "" for a computer or when unknown

    @property
    def name(self) -> str:
        """ "Firefox 141 on Windows 10", as far as the browser told."""
        browser = self.browser or _("An unknown browser")
        if not self.system:
            return browser
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": self.system}


@lru_cache(maxsize=2048)
def client_describe(user_agent: str) -> Client:
    """The browser, operating system and device a user-agent string names."""
    result = parse(user_agent or "")

    def named(part, *numbers: str) -> str:
        if part is None or part.family in ("", "Other"):
            return ""
        version = ".".join(n for n in (getattr(part, name) for name in numbers) if n)
        return f"{part.family} {version}".strip()

    device = result.device
    device_name = "" if device is None or device.family in ("", "Other", "Spider") else device.family
    return Client(
        browser=named(result.user_agent, "major"),
        system=named(result.os, "major", "minor"),
        device="" if device_name in ("Mac", "K") else device_name,
    )


@dataclass(frozen=True)
class SignInSession:
    id: int
    ip: str
    user_agent: str
    client: Client
    created_at: datetime
    last_seen_at: datetime
    current: bool


def signin_sessions_for(*, request: HttpRequest) -> list[SignInSession]:
    """The signed-in customer's live sessions (allauth drops those that ended), this
    browser's first, then the most recently active."""
    current_key = request.session.session_key
    rows = [
        SignInSession(
            id=s.pk,
            ip=s.ip,
            user_agent=s.user_agent,
            client=client_describe(s.user_agent),
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            current=s.session_key == current_key,
        )
        for s in UserSession.objects.purge_and_list(request.user)
    ]
    return sorted(rows, key=lambda row: (not row.current, -row.last_seen_at.timestamp()))


def signin_sessions_end(*, request: HttpRequest, user: User, session_id: int | None = None) -> list[UserSession]:
    """End one of the customer's other sessions (`session_id`), or all of them; this
    browser's session is never among them (signing out ends it). Returns those
    ended: none for an id that is not one of the customer's other sessions."""
    others = UserSession.objects.filter(user=user).exclude(session_key=request.session.session_key)
    if session_id is not None:
        others = others.filter(pk=session_id)
    ended = list(others)
    if ended:
        get_adapter().end_sessions(ended)
        activity_record(
            user=user,
            action=ActivityEvent.Action.DELETED,
            category="account",
            actor_kind=ActivityEvent.Actor.CUSTOMER,
            actor=user,
            fields=[ACTIVITY_FIELD],
        )
    return ended
