from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accesslogs.retention import erase_on
from accounts.adapter import inactive_sign_in_user_id
from cloudportal.core.responses import form_invalid

from .grace import erasure_grace, grace_text
from .selectors import erasure_pending_for
from .services import (
    account_delete_cancel,
    account_delete_confirmation_send,
    account_delete_request,
    erasure_preview,
    erasure_request_for_token,
)


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required
def delete_page(request: HttpRequest) -> HttpResponse:
    """After the password again: what will go and what is kept, then the confirmation."""
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            context = _delete_context(request)
            context["error"] = _("Tick the box to confirm that you want to delete your account.")
            return form_invalid(request, "erasure/delete.html", context)
        try:
            account_delete_request(user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("me:data")
        logout(request)
        return redirect("me:delete_requested")
    return render(request, "erasure/delete.html", _delete_context(request))


def _delete_context(request: HttpRequest) -> dict:
    return {
        "preview": erasure_preview(user=request.user),
        "grace": grace_text(erasure_grace()),
        # A session recorded today is kept, detached, until this day at the latest.
        "kept_until_latest": erase_on(timezone.now()),
    }


def delete_requested(request: HttpRequest) -> HttpResponse:
    """Shown once signed out: what happens next."""
    return render(request, "erasure/delete_requested.html", {"grace": grace_text(erasure_grace())})


@require_http_methods(["GET", "POST"])
def delete_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation email. GET asks (mail scanners open links),
    POST cancels; no sign-in needed, since the account is locked."""
    pending = erasure_request_for_token(token=token)
    if request.method == "POST":
        try:
            account_delete_cancel(token=token)
        except ValidationError as exc:
            return render(request, "erasure/cancel.html", {"invalid": " ".join(exc.messages)}, status=400)
        messages.success(request, _("Your account has been restored and will not be deleted. You can sign in again."))
        return redirect("account_login")
    if pending is None:
        invalid = _("This link is no longer valid: the deletion was cancelled already, or has happened.")
        return render(request, "erasure/cancel.html", {"invalid": invalid}, status=404)
    return render(request, "erasure/cancel.html", {"pending": pending})


@require_http_methods(["GET", "POST"])
def account_inactive(request: HttpRequest) -> HttpResponse:
    """allauth's "This account is inactive" page. To whoever just gave the right
    password for an account waiting for its erasure (and to nobody else): when it
    will be erased and how to cancel, in the customer's language, with a button
    that sends the confirmation email again (rate-limited, `erasure_resend`)."""
    pending = erasure_pending_for(user_id=inactive_sign_in_user_id(request))
    if request.method == "POST":
        if pending is None:
            return redirect("account_inactive")
        if not ratelimit.consume(request, action="erasure_resend", key=str(pending.user_id)):
            with translation.override(pending.user.language):
                messages.error(request, _("We have sent it several times already. Please wait an hour and try again."))
                return render(request, "account/account_inactive.html", {"pending": pending}, status=429)
        account_delete_confirmation_send(erasure_request=pending)
        with translation.override(pending.user.language):
            messages.success(request, _("We have sent the confirmation email again. It can take a few minutes."))
        return redirect("account_inactive")
    if pending is None:
        return render(request, "account/account_inactive.html")
    with translation.override(pending.user.language):
        return render(request, "account/account_inactive.html", {"pending": pending})
