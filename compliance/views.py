"""/me/disclosures/ (the customer's own, once they may see them) and
/privacy/transparency/ (public counts per half-year, once published)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Disclosure
from .selectors import BANDS, OUTCOME_LABELS, band, disclosures_for, transparency_report


@login_required
@require_GET
def disclosures(request: HttpRequest) -> HttpResponse:
    return render(request, "compliance/disclosures.html", {"disclosures": disclosures_for(user=request.user)})


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    context = {
        "report": transparency_report(),
        "kinds": [label for _value, label in Disclosure.AuthorityKind.choices],
        "outcomes": list(OUTCOME_LABELS.values()),
        "bands": [band(low) for low, _high in BANDS],
        "exact_from": BANDS[-1][1] + 1,
        "delay_days": settings.TRANSPARENCY_DELAY_DAYS,
    }
    return render(request, "compliance/transparency.html", context)
