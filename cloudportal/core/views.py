import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def form_invalid(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """A form came back with errors: say so, show them, and answer 400."""
    messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return render(request, template, context, status=400)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    return render(request, "core/dashboard.html", {"cards": dashboard_cards(user=request.user)})


def dashboard_cards(*, user) -> list[dict]:
    """Data held at a glance, from the registry, and the actions waiting for the customer."""
    from accesslogs.selectors import session_page
    from accounts.selectors import data_requests_for
    from cloudportal.privacy import categories
    from devices.selectors import devices_for

    held = [c for c in categories() if any(count.value for count in c.counts(user))]
    requests = list(data_requests_for(user=user)[:20])
    open_count = sum(1 for r in requests if r.is_open)
    answered_recently = [r for r in requests if r.answered_at and r.answered_at > timezone.now() - timedelta(days=30)]
    devices = list(devices_for(user=user)[:10])
    labels = {d.mac: d.label or d.mac for d in devices}
    recent = session_page(user=user, size=3).sessions
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
            "summary": _("Your latest network sessions.") if recent else _("No network session recorded for you yet."),
            "items": [
                _("%(start)s at %(site)s, %(device)s")
                % {
                    "start": date_format(timezone.localtime(s.started_at), "SHORT_DATETIME_FORMAT"),
                    "site": s.site.name,
                    "device": labels.get(s.mac, s.mac),
                }
                for s in recent
            ],
        },
        {
            "title": _("What we hold"),
            "url": reverse("me:data"),
            "summary": ngettext(
                "We hold data about you in %(count)d category.",
                "We hold data about you in %(count)d categories.",
                len(held),
            )
            % {"count": len(held)},
            "items": [c.label for c in held],
        },
        {
            "title": _("Your requests"),
            "url": reverse("me:requests"),
            "summary": ngettext(
                "%(count)d request waiting for our answer.", "%(count)d requests waiting for our answer.", open_count
            )
            % {"count": open_count},
            "items": [],
        },
    ]
    statement_card = _statement_change_card()
    if statement_card:
        cards.insert(0, statement_card)
    if answered_recently:
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


def _statement_change_card() -> dict | None:
    """A published statement version that is not in force yet (from the cache: no query)."""
    from policies.selectors import statement_state

    state = statement_state()
    if state.upcoming_version is None:
        return None
    if state.in_force_version:
        url = reverse("privacy_diff", args=[state.in_force_version, state.upcoming_version])
    else:
        url = reverse("privacy_version", args=[state.upcoming_version])
    date = date_format(timezone.localtime(state.upcoming_effective_at), "DATE_FORMAT")
    summary = (
        _("Read what changes. From %(date)s we will ask you to accept it.")
        if state.upcoming_material
        else _("Read what changes from %(date)s.")
    ) % {"date": date}
    return {
        "title": _("Our privacy statement changes on %(date)s") % {"date": date},
        "url": url,
        "summary": summary,
        "items": [],
        "pending": True,
    }


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database unreachable")
        return False


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    from cloudportal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: broker unreachable")
        return "down"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = "ok" if _database_ok() else "down"
    broker = _broker_status()
    healthy = database == "ok" and broker != "down"
    return JsonResponse(
        {"status": "ok" if healthy else "down", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
