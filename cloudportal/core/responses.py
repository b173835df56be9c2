"""Responses every app's views share."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def form_invalid(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """A form came back with errors: say so, show them, and answer 400."""
    messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return render(request, template, context, status=400)
