"""POST /api/ingest/sessions: network equipment reports finished sessions (SPEC §5)."""

from __future__ import annotations

import logging
import tempfile

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .ingest import FORMATS, IngestError, rewinding, sessions_ingest
from .services import collector_for_token

logger = logging.getLogger(__name__)

#: Bodies up to this size stay in memory; larger ones are spooled to a temporary file.
SPOOL_MEMORY = 8 * 1024 * 1024


def _error(status: int, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"errors": [{"line": 0, "field": "", "message": message}]}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@csrf_exempt
@require_POST
def ingest_sessions(request: HttpRequest) -> JsonResponse:
    try:
        return _ingest(request)
    except (OperationalError, InterfaceError):
        # The database went away (a restart, a cut connection), maybe mid-batch: its
        # transaction rolled back, nothing is stored, and the collector sends the batch
        # again (what an earlier attempt had stored is then counted as duplicates).
        logger.warning("ingest batch not stored: the database is unavailable")
        return _error(503, "The database is unavailable; nothing was stored: send the batch again.", Retry_After="30")


def _ingest(request: HttpRequest) -> JsonResponse:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    collector = collector_for_token(token=token.strip()) if scheme.lower() == "bearer" else None
    if collector is None:
        return _error(401, "A valid collector token is required.", WWW_Authenticate='Bearer realm="ingest"')
    content_type = request.content_type.lower()
    fmt = FORMATS.get(content_type)
    if fmt is None:
        return _error(415, f"Send text/csv or application/x-ndjson, not {content_type or 'nothing'}.")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as body:
        size = 0
        while block := request.read(1024 * 1024):
            size += len(block)
            if size > settings.INGEST_MAX_BYTES:
                return _error(413, f"A batch may hold at most {settings.INGEST_MAX_BYTES} bytes: split it.")
            body.write(block)
        try:
            result = sessions_ingest(collector=collector, source=rewinding(body), fmt=fmt)
        except IngestError as exc:
            return JsonResponse({"errors": exc.errors}, status=400)
    return JsonResponse({"accepted": result.accepted, "duplicates": result.duplicates})
