"""Data exports in the privacy registry: the files hold a copy of everything."""

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cloudportal.dates import day_shown
from cloudportal.privacy import HOSTING, Category, Count, ErasureResult, noun, register

from .models import DataExport
from .services import exports_delete_for


def _exports_export(user: User) -> list[dict]:
    return [
        {
            "asked": e.created_at.isoformat(),
            "status": e.status,
            "ready": e.finished_at.isoformat() if e.finished_at else None,
            "download_until": e.expires_at.isoformat() if e.expires_at else None,
            "sha256": e.sha256,
        }
        for e in DataExport.objects.filter(user=user).order_by("created_at")
    ]


def _exports_sample(user: User) -> list[str]:
    return [
        f"{day_shown(e.created_at)} · {e.get_status_display()}"
        for e in DataExport.objects.filter(user=user).order_by("-created_at")[:3]
    ]


def _exports_erase(user: User) -> ErasureResult:
    return ErasureResult(deleted={noun("data export", "data exports"): exports_delete_for(user=user)})


register(
    Category(
        key="exports",
        label=_("Data exports"),
        description=_("The copies of your data you asked for, as ZIP files, while they can be downloaded."),
        fields=(_("when you asked"), _("status"), _("the ZIP file with a copy of all your data")),
        purpose=_("To give you a copy of your data, as the law entitles you to."),
        legal_basis=_("Legal obligation (your right to data portability)"),
        retention=_(
            "The file is deleted 7 days after it is ready; the record of the request for the life of the account."
        ),
        storage=_("Our servers in EU data centres"),
        processors=(HOSTING,),
        correction=_("Ask for a new export at any time."),
        correct_url="me:export",
        models=("exports.DataExport",),
        columns=("asked", "status", "ready", "download_until", "sha256"),
        counts=lambda user: [Count(noun("export", "exports"), DataExport.objects.filter(user=user))],
        sample=_exports_sample,
        export=_exports_export,
        erase=_exports_erase,
        order=85,
    )
)
