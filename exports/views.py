import contextlib

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from .selectors import export_downloadable_for, export_for, exports_for
from .services import export_path, export_request


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def export_page(request: HttpRequest) -> HttpResponse:
    """Ask for an export (after the password again: allauth keeps the request and
    resumes it), see its progress, download it while it is valid. The page says
    what state the export is in, and nothing else does: embedded, it is ready
    before the page comes back, so a "being prepared" message would contradict it;
    asking while one is being prepared shows that one."""
    if request.method == "POST":
        with contextlib.suppress(ValidationError):
            export_request(user=request.user)
        return redirect("me:export")
    exports = list(exports_for(user=request.user)[:5])
    current = exports[0] if exports else None
    return render(
        request,
        "exports/export.html",
        {"current": current, "exports": exports, "now": timezone.now()},
    )


@login_required
@require_GET
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The export's progress, for the page's script (progressive enhancement)."""
    export = export_for(user=request.user, pk=pk)
    return JsonResponse(
        {
            "status": export.status,
            "status_label": export.get_status_display(),
            "percent": export.percent,
            "records": export.records,
        }
    )


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The ZIP file, to its owner only, while valid: any other case is a 404."""
    export = export_downloadable_for(user=request.user, pk=pk)
    path = export_path(export)
    if not path.exists():
        from django.http import Http404

        raise Http404
    filename = f"cloudportal-data-{timezone.localdate(export.finished_at):%Y-%m-%d}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="application/zip")
