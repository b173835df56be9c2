import time

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache
from django.utils.cache import add_never_cache_headers

from cloudportal.fragments import customer_changed, everyone_changed
from cloudportal.health import health_response
from cloudportal.replica import customer_wrote, replica_configured


class HealthCheckMiddleware:
    """`GET /healthz` answered here, right after the security headers and static files:
    a load balancer's probe needs no session, user, language, CSRF or gate, and costs
    a few hundred microseconds instead of the whole chain (portal.views.healthz is the
    same answer, for the URL name and a chain without this middleware)."""

    PATH = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == self.PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)


class PrivatePagesNoStoreMiddleware:
    """A page rendered for a signed-in person can hold their personal data: no
    browser or proxy cache may keep it (back-button after sign-out, shared PCs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


#: The clock of the sessions a process remembers (tests move it past an interval).
_clock = time.monotonic


class UserSessionActivityMiddleware:
    """allauth's sign-in session tracking (IP address, browser, last seen), at most
    once every USERSESSION_ACTIVITY_SECONDS per session.

    allauth's own middleware writes the session's row on every request: five queries
    and a write for each page a customer opens. Here an atomic cache.add (Redis in
    production) lets one request per interval through; "last seen" on the sign-in
    sessions page is then accurate to that interval. The cache entry holds when the
    interval ends, and each process remembers it for the sessions it saw, so that
    most requests do not ask the cache at all."""

    #: Sessions a process remembers at most (then it forgets them all and asks again).
    REMEMBERED = 10_000

    def __init__(self, get_response):
        self.get_response = get_response
        #: Session key -> _clock() until which its activity is recorded.
        self.recorded: dict[str, float] = {}

    def _due(self, session_key: str) -> bool:
        now = _clock()
        if self.recorded.get(session_key, 0.0) > now:
            return False
        seconds = settings.USERSESSION_ACTIVITY_SECONDS
        key = f"usersession-activity:{session_key}"
        until = time.time() + seconds
        due = cache.add(key, until, timeout=seconds)
        if not due:
            until = cache.get(key)
        if isinstance(until, float):
            if len(self.recorded) >= self.REMEMBERED:
                self.recorded.clear()
            self.recorded[session_key] = now + min(until - time.time(), seconds)
        return due

    def __call__(self, request):
        session_key = getattr(getattr(request, "session", None), "session_key", None)
        user = getattr(request, "user", None)
        if session_key and user is not None and user.is_authenticated and self._due(session_key):
            UserSession.objects.create_from_request(request)
        return self.get_response(request)


class ReplicaReadYourWritesMiddleware:
    """With a read replica: after a signed-in customer's POST, PUT, PATCH or DELETE
    (done, so committed), the primary's WAL position is kept for them, and their
    next pages read the replica only once it has replayed it (cloudportal/replica.py).
    Without a replica, nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and replica_configured():
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                customer_wrote(user_id=user.pk)
        return response


class FreshPagesMiddleware:
    """After a signed-in person's POST, PUT, PATCH or DELETE (done, so committed),
    the cached parts of pages it may have changed are out of date: a customer's
    own (whatever service the request went through, signals or not), or, for a
    staff member's, everyone's (the admin changes other people's data). See
    cloudportal/fragments.py."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                if user.is_staff:
                    everyone_changed()
                else:
                    customer_changed(user.pk)
        return response
