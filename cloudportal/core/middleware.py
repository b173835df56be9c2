from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache
from django.utils.cache import add_never_cache_headers

from cloudportal.replica import customer_wrote, replica_configured


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


class UserSessionActivityMiddleware:
    """allauth's sign-in session tracking (IP address, browser, last seen), at most
    once every USERSESSION_ACTIVITY_SECONDS per session.

    allauth's own middleware writes the session's row on every request: five queries
    and a write for each page a customer opens. Here an atomic cache.add (Redis in
    production) lets one request per interval through; "last seen" on the sign-in
    sessions page is then accurate to that interval."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_key = getattr(getattr(request, "session", None), "session_key", None)
        user = getattr(request, "user", None)
        if session_key and user is not None and user.is_authenticated:
            seconds = settings.USERSESSION_ACTIVITY_SECONDS
            if cache.add(f"usersession-activity:{session_key}", 1, timeout=seconds):
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
