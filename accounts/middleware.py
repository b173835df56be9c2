from django.conf import settings
from django.contrib.auth.middleware import get_user
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from cloudportal.cache import OWNER, read_through
from cloudportal.core.customer_pages import page_pointer
from cloudportal.core.gates import STATEMENT_PAGES, WAYS_OUT, Gate

from .backends import kept_user_keys


def _owner_key(session_key: str) -> str:
    return f"accounts:session-owner:{session_key}"


class SessionOwnerMiddleware:
    """A signed-in request's session, its customer's token, its kept user and the
    page kept for them at this path (through its pointer, `page_pointer`) in one
    round trip to the cache (cloudportal/cache.py, `read_through`): each session key
    names its customer under a key of its own, written on the session's first
    signed-in request. It is only a hint of which keys to read: the user is still the
    one the session names (the keys read for another customer would not be asked
    for), and a session key never changes hands (Django gives a new one at every
    sign-in and sign-out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session_key:
            pointer = page_pointer(request, OWNER) if request.method in ("GET", "HEAD") else ""
            read_through(_owner_key(session_key), kept_user_keys, pointer)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session_key and session is not None and session.accessed and session.session_key == session_key:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and cache.get(_owner_key(session_key)) != user.pk:
                cache.set(_owner_key(session_key), user.pk, timeout=session.get_expiry_age())
        return response


class UserLanguageMiddleware:
    """A signed-in customer's pages follow the language in their preferences.

    It is the first to look at the user, and puts the user it finds in the place of
    Django's lazy one (`request.user`, the same object): the rest of the chain and the
    view read it a few dozen times, each time through the lazy object's proxy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject):  # AuthenticationMiddleware's, which gives get_user(request)
            request.user = user = get_user(request)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SuspendedAccountMiddleware:
    """A customer suspended by staff may still sign in, but only to export their
    data, delete the account or sign out (SPEC §3), and read the privacy statement
    (accepting a new version among them, which the statement gate may ask first).
    Any other page sends them to the page that says so (403 for anything but GET and
    HEAD, which cannot be redirected without losing what was sent)."""

    GATE = Gate.letting_through(WAYS_OUT, STATEMENT_PAGES, {"account_login"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.suspended_at is None:
            return None
        if self.GATE.lets_through(request.resolver_match):
            return None
        if request.method in ("GET", "HEAD"):
            return redirect("me:suspended")
        return render(request, "accounts/suspended.html", status=403)
