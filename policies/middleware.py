from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .selectors import acceptance_covers, statement_state

#: The material version this session's customer is known to have accepted.
ACCEPTED_SESSION_KEY = "policies_accepted_required"

#: Reachable without accepting: the statement pages (acceptance among them),
#: signing out, re-authentication, export and deletion of the account (and the
#: page telling a suspended customer so), the language switch, staff screens, and
#: what is not a page.
OPEN_PREFIXES = (
    "/privacy/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/me/export/",
    "/me/delete/",
    "/me/suspended/",
    "/i18n/",
    "/admin/",
    "/static/",
    "/api/",
    "/healthz",
)


class StatementAcceptanceMiddleware:
    """From a material version's effective date, a customer who has not accepted
    it (or a later version) is sent to /privacy/accept/ before any other page.

    The common case costs no database query: the version state comes from the cache
    (see selectors.statement_state) and a customer's acceptance, once checked, is
    remembered in their session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_staff
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            state = statement_state()
            if state.required_id is not None and request.session.get(ACCEPTED_SESSION_KEY) != state.required_id:
                if not acceptance_covers(user=user, state=state):
                    target = reverse("privacy_accept")
                    if request.method == "GET":
                        target += "?" + urlencode({"next": request.get_full_path()})
                    return redirect(target)
                request.session[ACCEPTED_SESSION_KEY] = state.required_id
        return self.get_response(request)
