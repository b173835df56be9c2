"""/logs/: the customer's sessions, filtered, totalled, a page at a time, and as CSV.

Both views read the filters from the query string through SessionFilterForm: a bad
value is a 400 with the message beside its field, never a 500. A page cursor that
the portal did not make (edited by hand, truncated) is a 400 too, with a link to the
newest sessions, rather than silently showing another page than the one asked for.

With a read replica, both read from it (cloudportal/replica.py: not for a customer
whose last write it has not replayed yet).

The list costs the same few queries on any page: the customer's devices (for the
filter and the labels), the totals from the daily rollup, and one keyset query for
the page, with the sites joined.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from html import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cloudportal.core.customer_pages import customer_page
from cloudportal.csv_cells import csv_text
from cloudportal.replica import read_alias, replica_iter, replica_view
from cloudportal.sql import keyset_pages
from devices.selectors import devices_for

from .forms import SessionFilterForm
from .holds import HeldScope, held_scopes_noticeable
from .models import NetworkSession
from .selectors import CursorError, session_page, sessions_for, usage_totals
from .shown import erasure_shown, erasure_text
from .templatetags.access_logs import duration_formatter, size_formatter

TEMPLATE = "accesslogs/session_list.html"
BODY_TEMPLATE = "accesslogs/session_list_body.html"
CSV_COLUMNS = (
    "started_at",
    "ended_at",
    "duration_seconds",
    "device",
    "mac",
    "ip",
    "site",
    "site_address",
    "bytes_in",
    "bytes_out",
    "erased_on",
)
CSV_CHUNK_ROWS = 2000


def _filter_form(request: HttpRequest) -> tuple[SessionFilterForm, dict[str, str]]:
    """The filter form bound to the query string, and the labels of the customer's
    devices by MAC address (one query for both)."""
    devices = list(devices_for(user=request.user))
    labels = {device.mac: device.label for device in devices}
    return SessionFilterForm(request.GET, devices=devices), labels


def _render(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, TEMPLATE, {"body": _body(request, context)}, status=status)


def _body(request: HttpRequest, context: dict) -> str:
    context = {"retention_months": settings.ACCESS_LOG_RETENTION_MONTHS, **context}
    return render_to_string(BODY_TEMPLATE, context, request)


def _filters_invalid(request: HttpRequest, form: SessionFilterForm) -> HttpResponse:
    messages.error(request, _("Some filters are not valid: please correct the fields marked below."))
    return _render(request, {"form": form}, status=400)


class _FiltersInvalid(Exception):
    def __init__(self, form: SessionFilterForm) -> None:
        self.form = form


@login_required
@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    """The customer's sessions, filtered and paged by the query string: kept rendered
    in the cache per query string while nothing they show has changed
    (cloudportal/core/customer_pages.py; ingest, the rollup, holds and the sweep replace
    the tokens: cloudportal/fragments.py); an invalid filter or page link is answered afresh, never kept."""

    def build() -> str:
        form, labels = _filter_form(request)
        if not form.is_valid():
            raise _FiltersInvalid(form)
        filters = form.filters()
        after, before = request.GET.get("after") or None, request.GET.get("before") or None
        noticeable = held_scopes_noticeable()
        page = session_page(user=request.user, filters=filters, after=after, before=before, noticeable=noticeable)
        context = {
            "form": form,
            "page": page,
            "rows": session_rows(page.sessions, labels, noticeable),
            "totals": usage_totals(user=request.user, filters=filters),
            "is_filtered": any(form.cleaned_data.get(name) for name in form.fields),
            "is_paged": bool(after or before),
        }
        return _body(request, context)

    try:
        return customer_page(
            request, TEMPLATE, lambda: {"body": build()}, name="sessions", parts=(request.GET.urlencode(),)
        )
    except _FiltersInvalid as invalid:
        return _filters_invalid(request, invalid.form)
    except CursorError:
        messages.error(request, _("This page link is not valid. Start again from your newest sessions."))
        form, _labels = _filter_form(request)
        form.is_valid()  # it was: its filters found the page link wrong
        return _render(request, {"form": form, "bad_cursor": True}, status=400)


def session_rows(sessions: Iterable[NetworkSession], labels: dict[str, str], noticeable: list[HeldScope] = ()) -> str:
    """The table rows of a page of sessions, as HTML.

    Built here rather than in the template: a page is 50 rows of 10 cells, and the
    template language would resolve and escape some 900 variables, which costs more
    than the page's SQL. Text that comes from people or equipment (labels, sites) is
    escaped; the rest is made here. The same few days and minutes recur on a page,
    and each is formatted once. A session under a hold the customer may be told of
    (`noticeable`) says "held" instead of its erase date."""
    date_format, time_format = get_format("SHORT_DATE_FORMAT"), get_format("TIME_FORMAT")
    zone = timezone.get_current_timezone()
    days: dict[date, str] = {}
    minutes: dict[tuple[int, int], str] = {}

    def day_text(day: date) -> str:
        text = days.get(day)
        if text is None:
            text = days[day] = dateformat.format(day, date_format)
        return text

    def moment(value: datetime) -> str:
        local = value.astimezone(zone)
        key = (local.hour, local.minute)
        text = minutes.get(key)
        if text is None:
            text = minutes[key] = dateformat.time_format(local.time(), time_format)
        return f'<time datetime="{local.isoformat()}">{day_text(local.date())}<br>{text}</time>'

    size, span = size_formatter(), duration_formatter()
    held = escape(_("Held (legal hold)"))
    # Each cell names its column (data-label), shown above it when a phone shows the
    # rows as cards; the erase date stays last, and is said in full on each card.
    label = {
        key: f' data-label="{escape(text)}"'
        for key, text in (
            ("started", _("Started")),
            ("ended", _("Ended")),
            ("duration", _("Duration")),
            ("device", _("Device")),
            ("ip", _("IP address")),
            ("site", _("Site")),
            ("in", _("Data in")),
            ("out", _("Data out")),
            ("erased", _("Erased on")),
        )
    }
    rows = []
    for session in sessions:
        mac = session.mac
        name = labels.get(mac, "")
        device = f'{escape(name)}<br><span class="mac meta">{mac}</span>' if name else f'<span class="mac">{mac}</span>'
        site = session.site
        place = escape(site.name)
        if site.address:
            place += f'<br><span class="meta">{escape(site.address)}</span>'
        erased = erasure_shown(session, noticeable)
        if erased is None:
            erased_cell = f'<td class="erase-on held"{label["erased"]}>{held}</td>'
        else:
            erased_cell = (
                f'<td class="erase-on"{label["erased"]}><time datetime="{erased.isoformat()}">'
                f"{day_text(erased)}</time></td>"
            )
        rows.append(
            f"<tr><td{label['started']}>{moment(session.started_at)}</td>"
            f"<td{label['ended']}>{moment(session.ended_at)}</td>"
            f'<td class="num"{label["duration"]}>{span(session.duration_seconds)}</td>'
            f'<td class="device card-wide"{label["device"]}>{device}</td>'
            f'<td class="ip"{label["ip"]}>{session.ip}</td><td class="site card-wide"{label["site"]}>{place}</td>'
            f'<td class="num"{label["in"]}>{size(session.bytes_in)}</td>'
            f'<td class="num"{label["out"]}>{size(session.bytes_out)}</td>'
            f"{erased_cell}</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - people's and equipment's text is escaped above


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_rows(
    sessions: Iterable[NetworkSession], labels: dict[str, str], noticeable: list[HeldScope] = ()
) -> Iterator[list]:
    """The CSV rows of sessions (header first): times in ISO 8601 with their offset,
    text a spreadsheet would run as a formula quoted with a leading apostrophe; a
    session under a hold the customer may be told of has "held" for its erase date."""
    yield list(CSV_COLUMNS)
    for session in sessions:
        yield [
            timezone.localtime(session.started_at).isoformat(),
            timezone.localtime(session.ended_at).isoformat(),
            session.duration_seconds,
            csv_text(labels.get(session.mac, "")),
            session.mac,
            session.ip,
            csv_text(session.site.name),
            csv_text(session.site.address),
            session.bytes_in,
            session.bytes_out,
            erasure_text(session, noticeable),
        ]


@login_required
@require_GET
@replica_view
def session_csv(request: HttpRequest) -> HttpResponse:
    """Every session matching the filters (not one page), streamed as it is read
    (after this returns: `replica_iter` reads them where the view read the rest)."""
    form, labels = _filter_form(request)
    if not form.is_valid():
        return _filters_invalid(request, form)
    noticeable = held_scopes_noticeable()
    sessions = sessions_for(user=request.user, filters=form.filters(), noticeable=noticeable)
    writer = csv.writer(_Echo())
    rows = replica_iter(csv_rows(keyset_pages(sessions, size=CSV_CHUNK_ROWS), labels, noticeable), read_alias())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    filename = f"sessions-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
