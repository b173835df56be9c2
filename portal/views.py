"""The landing page, the dashboard, the health check and the error pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cloudportal.core.customer_pages import customer_page
from cloudportal.health import health_response
from policies.selectors import statement_state

from .selectors import Dashboard, StatementChange, dashboard_for


def home(request: HttpRequest) -> HttpResponse:
    """The landing page, or the customer's dashboard: kept in the cache while nothing
    it shows has changed (cloudportal/core/customer_pages.py)."""
    if not request.user.is_authenticated:
        return render(request, "portal/landing.html")
    user = request.user
    state = getattr(request, "statement_state", None) or statement_state()  # the gate's, read once a request
    return customer_page(
        request,
        "portal/dashboard.html",
        lambda: {
            "body": render_to_string(
                "portal/dashboard_body.html", {"user": user, "cards": dashboard_cards(dashboard_for(user=user))}
            )
        },
        name="dashboard",
        parts=(state.in_force_version, state.upcoming_version, state.upcoming_effective_at),
    )


def dashboard_cards(dashboard: Dashboard) -> list[dict]:
    """The dashboard's cards, in the customer's language, most pressing first."""
    devices, labels = dashboard.devices, dashboard.device_labels
    cards = [
        {
            "title": _("Your devices"),
            "url": reverse("devices:list"),
            "summary": ngettext("%(count)d device on your account.", "%(count)d devices on your account.", len(devices))
            % {"count": len(devices)}
            if devices
            else _("Add your devices to see their network sessions."),
            "items": [
                ngettext("%(device)s: %(count)d session", "%(device)s: %(count)d sessions", d.session_count)
                % {"device": labels[d.mac], "count": d.session_count}
                for d in devices
            ],
        },
        {
            "title": _("Recent sessions"),
            "url": reverse("logs:list"),
            "summary": _("Your latest network sessions.")
            if dashboard.recent_sessions
            else _("No network session recorded for you yet."),
            "items": [
                _("%(start)s at %(site)s, %(device)s")
                % {
                    "start": date_format(timezone.localtime(s.started_at), "SHORT_DATETIME_FORMAT"),
                    "site": s.site.name,
                    "device": labels.get(s.mac, s.mac),
                }
                for s in dashboard.recent_sessions
            ],
        },
        {
            "title": _("What we hold"),
            "url": reverse("me:data"),
            "summary": ngettext(
                "We hold data about you in %(count)d category.",
                "We hold data about you in %(count)d categories.",
                len(dashboard.categories_held),
            )
            % {"count": len(dashboard.categories_held)},
            "items": dashboard.categories_held,
        },
        {
            "title": _("Your requests"),
            "url": reverse("me:requests"),
            "summary": ngettext(
                "%(count)d request waiting for our answer.",
                "%(count)d requests waiting for our answer.",
                dashboard.open_requests,
            )
            % {"count": dashboard.open_requests},
            "items": [],
        },
    ]
    if dashboard.statement_change is not None:
        cards.insert(0, _statement_change_card(dashboard.statement_change))
    if dashboard.answered_recently:
        cards.insert(
            0,
            {
                "title": _("A request was answered"),
                "url": reverse("me:requests"),
                "summary": _("Our privacy team has answered you. Read the answer on your requests page."),
                "items": [],
                "pending": True,
            },
        )
    return cards


def _statement_change_card(change: StatementChange) -> dict:
    if change.in_force_version:
        url = reverse("privacy_diff", args=[change.in_force_version, change.version])
    else:
        url = reverse("privacy_version", args=[change.version])
    date = date_format(timezone.localtime(change.effective_at), "DATE_FORMAT")
    summary = (
        _("Read what changes. From %(date)s we will ask you to accept it.")
        if change.material
        else _("Read what changes from %(date)s.")
    ) % {"date": date}
    return {
        "title": _("Our privacy statement changes on %(date)s") % {"date": date},
        "url": url,
        "summary": summary,
        "items": [],
        "pending": True,
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answered by cloudportal.core.middleware.HealthCheckMiddleware before sessions and
    the rest; this view answers when that middleware is not installed."""
    return health_response()


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
