"""The steps of an authority request, each a page of the admin: add a lookup, see its
results (masked; in clear after approval, with a reason), send for approval, decide,
the package, close. Thin: parse, call a service, render or redirect. Seeing a page
takes the view permission, acting the change permission (Privacy officers only);
anyone else gets 403. A rule broken (a window too long, four eyes) is a 4xx with
the message, nothing written."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services
from .forms import FORM_FIELD, LOOKUP_FORMS, DecisionForm, ReasonForm
from .models import AuthorityRequest, DisclosurePackage, Lookup
from .package import package_download_record, package_path, package_queue
from .selectors import lookup_results, may_see_unmasked, request_preparers

Status = AuthorityRequest.Status


def _request(model_admin, request, pk: int, *, change: bool = False) -> AuthorityRequest:
    obj = get_object_or_404(AuthorityRequest.objects.select_related("officer"), pk=pk)
    allowed = (
        model_admin.has_change_permission(request, obj) if change else model_admin.has_view_permission(request, obj)
    )
    if not allowed:
        raise PermissionDenied
    return obj


def _render(model_admin, request, obj, template: str, title: str, status: int = 200, **context):
    return TemplateResponse(
        request,
        f"admin/authorities/authorityrequest/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "original": obj,
            "title": title,
            **context,
        },
        status=status,
    )


def _back(obj: AuthorityRequest):
    return redirect("admin:authorities_authorityrequest_change", obj.pk)


def workflow_context(model_admin, request, obj: AuthorityRequest) -> dict:
    """What the request's screen offers next, as links."""
    name = "admin:authorities_authorityrequest"
    can_change = model_admin.has_change_permission(request, obj) and obj.closed_at is None
    steps = []
    if can_change and obj.status in AuthorityRequest.PREPARING:
        steps += [
            (reverse(f"{name}_lookup", args=[obj.pk, "ip"]), _("Look up an IP address")),
            (reverse(f"{name}_lookup", args=[obj.pk, "mac"]), _("Look up a MAC address")),
            (reverse(f"{name}_lookup", args=[obj.pk, "account"]), _("Look up an account")),
        ]
    if can_change and obj.status in (Status.LOOKUP, Status.AWAITING):
        label = _("Ask for approval") if obj.status == Status.LOOKUP else _("Take back from approval")
        steps.append((reverse(f"{name}_submit", args=[obj.pk]), label))
    if can_change and obj.status in (Status.AWAITING, Status.CHALLENGED):
        steps.append((reverse(f"{name}_decide", args=[obj.pk]), _("Decide (second officer)")))
    if obj.decision == AuthorityRequest.Decision.APPROVED:
        steps.append((reverse(f"{name}_package", args=[obj.pk]), _("Disclosure package")))
    if can_change:
        steps.append((reverse(f"{name}_close", args=[obj.pk]), _("Close the request")))
    return {"workflow_steps": steps}


def lookup_add(model_admin, request, pk: int, kind: str):
    obj = _request(model_admin, request, pk, change=True)
    form_class = LOOKUP_FORMS.get(kind)
    if form_class is None:
        raise Http404
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                lookup = services.lookup_run(
                    request=obj,
                    staff=request.user,
                    kind=kind,
                    value=form.cleaned_data["value"],
                    starts_at=form.cleaned_data.get("starts_at"),
                    ends_at=form.cleaned_data.get("ends_at"),
                )
            except ValidationError as exc:
                _errors_to_form(form, exc, FORM_FIELD[kind])
            else:
                messages.success(
                    request,
                    _("The lookup matched %(sessions)s sessions of %(accounts)s accounts.")
                    % {"sessions": lookup.sessions, "accounts": lookup.accounts},
                )
                return redirect("admin:authorities_authorityrequest_results", obj.pk, lookup.pk)
        status = 400
    title = {"ip": _("Look up an IP address"), "mac": _("Look up a MAC address")}.get(kind, _("Look up an account"))
    return _render(model_admin, request, obj, "lookup.html", title, status, form=form)


def _errors_to_form(form, exc: ValidationError, fields: dict[str, str]) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        target = fields.get(name)
        if target == "date_to" and name == "starts_at":
            target = "date_from"
        form.add_error(target if target in form.fields else None, errors)


def results(model_admin, request, pk: int, lookup_pk: int):
    """GET: counts and masked rows. POST with a reason, once approved: the rows in clear,
    the view recorded for each customer concerned."""
    obj = _request(model_admin, request, pk)
    lookup = get_object_or_404(Lookup.objects.select_related("request"), pk=lookup_pk, request=obj)
    reason_form = ReasonForm(request.POST or None)
    unmasked, status = False, 200
    if request.method == "POST":
        if not (model_admin.has_change_permission(request, obj) and may_see_unmasked(obj)):
            raise PermissionDenied
        if reason_form.is_valid():
            try:
                services.results_reveal(lookup=lookup, staff=request.user, reason=reason_form.cleaned_data["reason"])
                unmasked = True
            except ValidationError as exc:
                reason_form.add_error("reason", exc.messages)
        if not unmasked:
            status = 400
    found = lookup_results(lookup=lookup, masked=not unmasked)
    title = _("Results of lookup #%(n)s") % {"n": lookup.pk}
    return _render(
        model_admin,
        request,
        obj,
        "results.html",
        title,
        status,
        results=found,
        reason_form=reason_form,
        can_unmask=may_see_unmasked(obj) and model_admin.has_change_permission(request, obj),
    )


def submit(model_admin, request, pk: int):
    obj = _request(model_admin, request, pk, change=True)
    if request.method == "POST":
        try:
            if obj.status == Status.AWAITING:
                services.approval_withdraw(request=obj, staff=request.user)
                messages.success(request, _("The request is back with its lookups."))
            else:
                services.approval_ask(request=obj, staff=request.user)
                messages.success(request, _("The request awaits the approval of another Privacy officer."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return _back(obj)
    title = _("Take back from approval") if obj.status == Status.AWAITING else _("Ask for approval")
    return _render(model_admin, request, obj, "confirm.html", title)


def decide(model_admin, request, pk: int):
    obj = _request(model_admin, request, pk, change=True)
    title = _("Decide on the request")
    if request.user.pk in request_preparers(request=obj):
        message = _("You prepared this request: another Privacy officer must decide it.")
        return _render(model_admin, request, obj, "confirm.html", title, 403, refused=message)
    if obj.status not in (Status.AWAITING, Status.CHALLENGED):
        message = _("Only a request awaiting approval can be decided.")
        return _render(model_admin, request, obj, "confirm.html", title, 409, refused=message)
    form = DecisionForm(request.POST or None, request=obj)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                decided = services.request_decide(
                    request=obj,
                    staff=request.user,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc, {"decision": "decision", "reason": "reason"})
            else:
                messages.success(
                    request, _("Decision recorded: %(decision)s.") % {"decision": decided.get_status_display()}
                )
                return _back(obj)
        status = 400
    lookups = list(obj.lookups.all())
    return _render(model_admin, request, obj, "decide.html", title, status, form=form, lookups=lookups)


def package(model_admin, request, pk: int):
    obj = _request(model_admin, request, pk)
    if request.method == "POST":
        if not model_admin.has_change_permission(request, obj):
            raise PermissionDenied
        try:
            package_queue(request=obj, staff=request.user)
            messages.success(request, _("The package is being prepared."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("admin:authorities_authorityrequest_package", obj.pk)
    packages = list(obj.packages.all())
    can_build = (
        obj.decision == AuthorityRequest.Decision.APPROVED
        and obj.closed_at is None
        and not any(p.is_downloadable() or p.status in DisclosurePackage.IN_PROGRESS for p in packages)
    )
    title = _("Disclosure package")
    return _render(
        model_admin, request, obj, "package.html", title, packages=packages, now=timezone.now(), can_build=can_build
    )


def package_download(model_admin, request, pk: int, package_pk: int):
    obj = _request(model_admin, request, pk, change=True)
    found = get_object_or_404(DisclosurePackage, pk=package_pk, request=obj)
    path = package_path(found)
    if not found.is_downloadable() or not path.exists():
        raise Http404
    package_download_record(package=found, staff=request.user)
    filename = f"disclosure-{obj.pk}-{timezone.localdate(found.finished_at):%Y-%m-%d}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="application/zip")


def close(model_admin, request, pk: int):
    obj = _request(model_admin, request, pk, change=True)
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.request_close(request=obj, staff=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error("reason", exc.messages)
            else:
                messages.success(request, _("The request is closed; its legal holds are lifted."))
                return _back(obj)
        status = 400
    return _render(model_admin, request, obj, "close.html", _("Close the request"), status, form=form)
