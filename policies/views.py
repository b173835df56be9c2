from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cloudportal.core.pagination import page_or_404
from cloudportal.core.visitor_pages import visitor_page
from cloudportal.http import client_ip

from .cookies import cookies_set_by_the_portal
from .diff import statement_diff
from .forms import AcceptForm
from .middleware import ACCEPTED_SESSION_KEY
from .models import StatementVersion, texts_common_language
from .selectors import (
    acceptance_last,
    acceptances_for,
    processors_listed,
    statement_in_force,
    statement_state,
    statement_version_get,
    statements_published,
)
from .services import announcements_unsubscribe, statement_accept, unsubscribe_user_for
from .statement_page import statement_html, statement_key

ACCEPTANCES_PAGE_SIZE = 25


def statement(request: HttpRequest) -> HttpResponse:
    """The statement in force: no query while its state is in the cache and this
    process has rendered it; for a visitor, the whole page from memory."""
    state = statement_state()
    context = {"statement_html": statement_html(state=state)}
    return visitor_page(request, "policies/statement.html", context, key=statement_key(state))


def version_detail(request: HttpRequest, version: str) -> HttpResponse:
    found = statement_version_get(version=version)
    in_force = statement_in_force()
    return render(
        request,
        "policies/statement.html",
        {"version": found, "in_force": in_force is not None and in_force.pk == found.pk},
    )


def versions(request: HttpRequest) -> HttpResponse:
    published = list(statements_published())
    in_force = statement_in_force()
    rows = [
        {
            "version": v,
            "previous": published[i + 1] if i + 1 < len(published) else None,
            "current": in_force is not None and v.pk == in_force.pk,
            "upcoming": v.effective_at > timezone.now(),
        }
        for i, v in enumerate(published)
    ]
    return render(request, "policies/versions.html", {"rows": rows, "in_force": in_force})


def _diff_context(old: StatementVersion, new: StatementVersion) -> dict:
    """The diff of two versions in the reader's language, or in English when one of
    them was published before the French texts (the page then says so)."""
    language = texts_common_language(old, new, language=get_language())
    return {
        "blocks": statement_diff(old=old.in_language("body", language), new=new.in_language("body", language)),
        "diff_language": language,
    }


def diff(request: HttpRequest, a: str, b: str) -> HttpResponse:
    old, new = statement_version_get(version=a), statement_version_get(version=b)
    return render(request, "policies/diff.html", {"old": old, "new": new, **_diff_context(old, new)})


def processors(request: HttpRequest) -> HttpResponse:
    language = get_language() or settings.LANGUAGE_CODE
    rows = [
        {"p": p, "service": p.in_language("service", language), "data": p.in_language("data", language)}
        for p in processors_listed()
    ]
    return render(request, "policies/processors.html", {"rows": rows})


def cookies(request: HttpRequest) -> HttpResponse:
    return render(request, "policies/cookies.html", {"cookies": cookies_set_by_the_portal()})


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    """The version in force, what changed since the customer's last acceptance, and
    the button that accepts it."""
    version = statement_in_force()
    last = acceptance_last(user=request.user)
    target = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    if version is None:
        return render(request, "policies/accept.html", {"version": None, "next": _safe_next(request, target)})
    status = 200
    if request.method == "POST":
        form = AcceptForm(request.POST)
        if form.is_valid() and form.cleaned_data["version"] == version.pk:
            statement_accept(
                user=request.user,
                version=version,
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
                language=get_language(),
            )
            request.session[ACCEPTED_SESSION_KEY] = statement_state().required_id
            return redirect(_safe_next(request, form.cleaned_data.get("next")))
        status = 400
        form_error = _("The statement changed while you were reading it. Please read this version and accept it.")
    else:
        form_error = ""
    already = last is not None and last.version_id == version.pk
    diff_context = {"blocks": None}
    if last is not None and not already:
        diff_context = _diff_context(last.version, version)
    return render(
        request,
        "policies/accept.html",
        {
            "version": version,
            "last": last,
            "already": already,
            **diff_context,
            "next": _safe_next(request, target),
            "form_error": form_error,
        },
        status=status,
    )


@login_required
def acceptances(request: HttpRequest) -> HttpResponse:
    accepted = acceptances_for(user=request.user)
    page = page_or_404(accepted, per_page=ACCEPTANCES_PAGE_SIZE, number=request.GET.get("page", 1))
    return render(request, "policies/acceptances.html", {"page": page, "in_force": statement_in_force()})


@csrf_exempt  # the signed token is the proof; mail clients post without a CSRF token (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe from service-improvement emails, without signing in.
    GET shows a confirmation button (link scanners must not unsubscribe anyone);
    POST, from that button or from the mail client (RFC 8058), turns them off."""
    user = unsubscribe_user_for(token=token)
    if user is None:
        return render(request, "policies/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        announcements_unsubscribe(user=user)
        return render(request, "policies/unsubscribe.html", {"done": True})
    return render(request, "policies/unsubscribe.html", {"subscribed": user.email_service_improvement})
