from functools import lru_cache

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.decorators import reauthentication_required
from allauth.usersessions.views import ListUserSessionsView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from cloudportal.core.customer_pages import customer_page
from cloudportal.core.pagination import page_or_404
from cloudportal.core.responses import form_invalid
from cloudportal.privacy import (
    activity_concealment_fixed,
    categories,
    category,
    category_label,
    counts_of,
    field_label,
)

from .data_requests import data_request_file
from .forms import DataRequestForm, PreferencesForm, ProfileForm
from .models import User
from .selectors import activity_for, data_requests_for, profile_for, profile_rows
from .services import preferences_update, profile_update, user_language_set
from .signin_sessions import ACTIVITY_FIELD, client_describe, signin_sessions_end, signin_sessions_for

ACTIVITY_PAGE_SIZE = 25
#: What accounts/signals.py records for allauth's changes (the other field names
#: are those of the registry categories' models).
ACTIVITY_FIELD_LABELS = {
    "account": gettext_lazy("account"),
    "email_address": gettext_lazy("an email address"),
    "primary_email": gettext_lazy("main email address"),
    "email_verified": gettext_lazy("email address verified"),
    "password": gettext_lazy("password"),
    "two_factor": gettext_lazy("two-factor method"),
    "recovery_codes": gettext_lazy("recovery codes"),
    ACTIVITY_FIELD: gettext_lazy("sign-in sessions ended"),
}


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which a signed-in customer's preference follows."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language)
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"rows": profile_rows(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    """The one page with the ID number and IBAN in clear: after the password again
    (allauth keeps a change sent meanwhile and carries it out afterwards)."""
    profile = profile_for(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=profile)
        if form.is_valid():
            profile_update(user=request.user, actor=request.user, data=form.cleaned_data)
            messages.success(request, _("Your profile has been saved."))
            return redirect("me:profile")
        return form_invalid(request, "accounts/profile_form.html", {"form": form})
    return render(request, "accounts/profile_form.html", {"form": ProfileForm(instance=profile)})


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PreferencesForm(request.POST, instance=User.objects.get(pk=request.user.pk))
        if form.is_valid():
            user = preferences_update(user=request.user, actor=request.user, data=form.cleaned_data)
            messages.success(request, _("Your preferences have been saved."))
            response = redirect("me:preferences")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
            return response
        return form_invalid(request, "accounts/preferences.html", {"form": form})
    return render(request, "accounts/preferences.html", {"form": PreferencesForm(instance=request.user)})


def _url_or_none(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@lru_cache(maxsize=256)
def _category_details(key: str, language: str) -> str:
    """What the registry says of a category (what it covers, why, on what basis, how
    long, where, who handles it, how to correct it) as HTML in `language`: the same
    for every customer, so built once per process and language."""
    found = category(key)
    with translation.override(language):
        return render_to_string(
            "accounts/_category_details.html", {"category": found, "correct_url": _url_or_none(found.correct_url)}
        )


def _category_details_forget(**kwargs) -> None:
    """A setting a text depends on changed (tests do that): build the texts again."""
    _category_details.cache_clear()


setting_changed.connect(_category_details_forget)


@login_required
def data_held(request: HttpRequest) -> HttpResponse:
    """ "What we hold", built from the privacy registry: its counts and samples kept
    rendered in the cache while nothing they show has changed (cloudportal/core/customer_pages.py)."""
    user = request.user
    links = {"export": _url_or_none("me:export"), "delete": _url_or_none("me:delete")}
    return customer_page(
        request,
        "accounts/data_held.html",
        lambda: {"body": render_to_string("accounts/data_held_body.html", {"held": _held(user), "links": links})},
        name="data-held",
    )


def _held(user) -> list[dict]:
    language = translation.get_language()
    # What the activity history conceals is looked up once for the page's counts and samples.
    with activity_concealment_fixed(user):
        counts = counts_of(user)
        return [
            {
                "category": c,
                "counts": counts[c.key],
                "sample": c.sample(user),
                "details": mark_safe(_category_details(c.key, language)),  # noqa: S308 - rendered by the templates
            }
            for c in categories()
        ]


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The activity history, a page at a time: kept rendered in the cache per page
    while nothing it shows has changed (each event saved, a hold, an authority
    request replaces a token: cloudportal/fragments.py); a page that does not exist
    is a 404, never kept."""
    number = request.GET.get("page", 1)

    def build() -> str:
        page = page_or_404(activity_for(user=request.user), per_page=ACTIVITY_PAGE_SIZE, number=number)
        for event in page.object_list:
            event.category_label = category_label(event.category)
            event.field_labels = [
                ACTIVITY_FIELD_LABELS.get(name) or field_label(event.category, name) for name in event.fields
            ]
        return render_to_string("accounts/activity_body.html", {"page": page}, request)

    return customer_page(request, "accounts/activity.html", lambda: {"body": build()}, name="activity", parts=(number,))


@login_required
@require_http_methods(["GET", "POST"])
def data_requests(request: HttpRequest) -> HttpResponse:
    form = DataRequestForm(request.POST or None)
    context = {"form": form, "requests": data_requests_for(user=request.user)}
    if request.method == "POST":
        if not form.is_valid():
            return form_invalid(request, "accounts/requests.html", context)
        try:
            data_request_file(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return form_invalid(request, "accounts/requests.html", context)
        messages.success(request, _("Your request has been sent. We will answer by email within one month."))
        return redirect("me:requests")
    return render(request, "accounts/requests.html", context)


@login_required
@require_GET
def suspended(request: HttpRequest) -> HttpResponse:
    """What a customer suspended by staff can still do; others go to the dashboard."""
    if request.user.suspended_at is None:
        return redirect("home")
    return render(request, "accounts/suspended.html")


class SignInSessionsView(ListUserSessionsView):
    """allauth's sign-in sessions page (/accounts/sessions/), with each session named
    by its browser and system and its last activity; "sign out everywhere else"
    goes through the same service as ending one session."""

    def get_context_data(self, **kwargs) -> dict:
        context = super(ListUserSessionsView, self).get_context_data(**kwargs)  # not allauth's list: ours
        rows = signin_sessions_for(request=self.request)
        minutes = max(1, round(settings.USERSESSION_ACTIVITY_SECONDS / 60))
        return {**context, "rows": rows, "session_count": len(rows), "activity_minutes": minutes}

    def form_valid(self, form) -> HttpResponse:
        signin_sessions_end(request=self.request, user=self.request.user)
        get_account_adapter().add_message(self.request, messages.INFO, "usersessions/messages/sessions_logged_out.txt")
        return redirect(self.get_success_url())


signin_sessions = SignInSessionsView.as_view()


@login_required
@require_POST
def signin_session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign out one of the customer's other browsers; another customer's session, or
    one already ended, is a 404."""
    ended = signin_sessions_end(request=request, user=request.user, session_id=pk)
    if not ended:
        raise Http404(_("This sign-in session has already ended, or is not one of yours."))
    messages.success(request, _("%(name)s is signed out.") % {"name": client_describe(ended[0].user_agent).name})
    return redirect("usersessions_list")
