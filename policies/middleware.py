from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from cloudportal.core.gates import STATEMENT_PAGES, WAYS_OUT, Gate

from .selectors import acceptance_covers, statement_state

#: The material version this session's customer is known to have accepted.
ACCEPTED_SESSION_KEY = "policies_accepted_required"

#: Reachable without accepting: the statement pages (acceptance among them), the
#: ways out of the account, the staff screens and the ingest API.
GATE = Gate.letting_through(STATEMENT_PAGES, WAYS_OUT, namespaces=("admin", "api"))


class StatementAcceptanceMiddleware:
    """From a material version's effective date, a customer who has not accepted
    it (or a later version) is sent to /privacy/accept/ before any other page.

    The common case costs no database query: the version state comes from the cache
    (see selectors.statement_state) and a customer's acceptance, once checked, is
    remembered in their session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_staff or GATE.lets_through(request.resolver_match):
            return None
        state = request.statement_state = statement_state()  # the page may show it too
        if state.required_id is not None and request.session.get(ACCEPTED_SESSION_KEY) != state.required_id:
            if not acceptance_covers(user=user, state=state):
                target = reverse("privacy_accept")
                if request.method == "GET":
                    target += "?" + urlencode({"next": request.get_full_path()})
                return redirect(target)
            request.session[ACCEPTED_SESSION_KEY] = state.required_id
        return None
