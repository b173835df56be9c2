from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cloudportal.core.customer_pages import customer_page
from cloudportal.core.responses import form_invalid

from .forms import DeviceForm, DeviceLabelForm
from .models import Device
from .selectors import device_for, devices_for
from .services import device_add, device_remove, device_rename

RANDOMISED_NOTE = gettext_lazy(
    "This address is randomised: the device may use a different one on other networks, "
    "so its sessions there will not be linked to you."
)


@login_required
@require_http_methods(["GET", "POST"])
def device_list(request: HttpRequest) -> HttpResponse:
    """The customer's devices, and the form that adds one: kept in the cache while
    nothing it shows has changed (cloudportal/core/customer_pages.py)."""
    form = DeviceForm(request.POST or None)
    context = {"form": form, "devices": devices_for(user=request.user), "randomised_note": RANDOMISED_NOTE}
    if request.method == "POST":
        if not form.is_valid():
            return form_invalid(request, "devices/device_list.html", context)
        try:
            device = device_add(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return form_invalid(request, "devices/device_list.html", context)
        messages.success(request, _("The device %(mac)s has been added.") % {"mac": device.mac})
        if device.is_randomised:
            messages.warning(request, RANDOMISED_NOTE)
        return redirect("devices:list")
    return customer_page(request, "devices/device_list.html", lambda: context, name="devices")


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, pk: int) -> HttpResponse:
    device = device_for(user=request.user, pk=pk)
    if request.method == "POST":
        form = DeviceLabelForm(request.POST)
        if not form.is_valid():
            return form_invalid(request, "devices/device_form.html", {"form": form, "device": device})
        try:
            device_rename(device=device, label=form.cleaned_data["label"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
            return form_invalid(request, "devices/device_form.html", {"form": form, "device": device})
        messages.success(request, _("The device %(mac)s has been renamed.") % {"mac": device.mac})
        return redirect("devices:list")
    form = DeviceLabelForm(initial={"label": device.label})
    return render(request, "devices/device_form.html", {"form": form, "device": device})


@login_required
@require_http_methods(["GET", "POST"])
def device_remove_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    # Another customer's device is a 404 before anything else, re-authentication included.
    device = device_for(user=request.user, pk=pk)
    return _device_remove_confirm(request, device)


@reauthentication_required
def _device_remove_confirm(request: HttpRequest, device: Device) -> HttpResponse:
    """Asks for the password first (allauth, then back here), then for a confirmation."""
    if request.method == "POST":
        device_remove(device=device, actor=request.user)
        messages.success(request, _("The device %(mac)s has been removed.") % {"mac": device.mac})
        return redirect("devices:list")
    return render(request, "devices/device_confirm_remove.html", {"device": device})
