"""/logs/: the customer's own sessions, filters and totals, keyset pages, the CSV."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accesslogs.models import NetworkSession
from accesslogs.retention import erase_on
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.fragments import customer_changed
from devices.tests.factories import DeviceFactory

from .factories import sessions_record

pytestmark = pytest.mark.django_db

LIST = reverse("logs:list")
CSV = reverse("logs:csv")
PHONE = "00:1A:2B:00:0A:01"
LAPTOP = "00:1A:2B:00:0A:02"
STRANGER = "00:1A:2B:00:0A:03"


def local(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A local time (settings.TIME_ZONE) `days_ago` days before today."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def shown(response) -> list[str]:
    """Session ids of the rows on the page, top to bottom."""
    return [session.session_id for session in response.context["page"].sessions]


def link(response, rel: str) -> str | None:
    """The URL of the page's "Newer" (rel=prev) or "Older" (rel=next) link."""
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', response.content.decode())
    return LIST + html.unescape(match.group(1)) if match else None


def test_the_pages_need_sign_in(client):
    for url in (LIST, CSV):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_the_customers_sessions_show_and_only_from_when_the_device_was_added(client, customer, collector):
    DeviceFactory(user=VerifiedUserFactory(), mac=STRANGER)
    sessions_record(
        collector, [{"mac": PHONE, "session_id": f"before-{n}", "started_at": local(5, 9 + n)} for n in (0, 1)]
    )
    sessions_record(collector, [{"mac": STRANGER, "session_id": "theirs", "site": "Somebody else's café"}])
    DeviceFactory(user=customer, mac=PHONE, label="Ada phone")
    sessions_record(
        collector, [{"mac": PHONE, "session_id": f"after-{n}", "started_at": local(2, 9 + n)} for n in (0, 1, 2)]
    )
    assert NetworkSession.objects.filter(mac=PHONE, subscriber__isnull=True).count() == 2

    response = client.get(LIST)

    assert response.status_code == 200
    assert shown(response) == ["after-2", "after-1", "after-0"]
    assert response.context["totals"]["sessions"] == 3
    body = response.content.decode()
    assert 'data-total="sessions">3<' in body
    assert "Ada phone" in body and "Gare du Nord" in body and "18 rue de Dunkerque" in body
    assert "café" not in body and STRANGER not in body


@pytest.fixture
def two_devices(customer, collector):
    """Five sessions of two devices over three local days, one just before and one
    just after a local midnight, from an IPv4 and an IPv6 address."""
    phone = DeviceFactory(user=customer, mac=PHONE, label="Phone")
    laptop = DeviceFactory(user=customer, mac=LAPTOP, label="Laptop")
    rows = [
        ("p1", PHONE, "192.0.2.10", local(3, 12), local(3, 13), 1),
        ("p2", PHONE, "2001:db8::1", local(2, 23, 30), local(2, 23, 50), 2),
        ("p3", PHONE, "192.0.2.10", local(1, 0, 30), local(1, 1, 0), 4),
        ("l1", LAPTOP, "192.0.2.10", local(2, 10), local(2, 12), 8),
        ("l2", LAPTOP, "2001:db8::1", local(1, 10), local(1, 11), 16),
    ]
    sessions_record(
        collector,
        [
            {"session_id": sid, "mac": mac, "ip": ip, "started_at": started, "ended_at": ended, "bytes_in": size,
             "bytes_out": 10 * size}
            for sid, mac, ip, started, ended, size in rows
        ],
    )  # fmt: skip
    return {"phone": phone.pk, "laptop": laptop.pk}


SECONDS = {"p1": 3600, "p2": 1200, "p3": 1800, "l1": 7200, "l2": 3600}
BYTES_IN = {"p1": 1, "p2": 2, "p3": 4, "l1": 8, "l2": 16}


def _day(days_ago: int) -> str:
    return f"{timezone.localdate() - timedelta(days=days_ago):%Y-%m-%d}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["l2", "p3", "p2", "l1", "p1"]),
        ({"device": "phone"}, ["p3", "p2", "p1"]),
        ({"date_from": _day(2), "date_to": _day(2)}, ["p2", "l1"]),
        ({"device": "phone", "date_from": _day(2)}, ["p3", "p2"]),
        ({"date_to": _day(2)}, ["p2", "l1", "p1"]),
        ({"ip": "2001:db8:0:0::1"}, ["l2", "p2"]),
        ({"ip": "192.0.2.10", "device": "laptop"}, ["l1"]),
        ({"ip": "192.0.2.99"}, []),
    ],
)
def test_filters_give_the_matching_rows_and_their_totals(client, two_devices, query, expected):
    if "device" in query:
        query = {**query, "device": two_devices[query["device"]]}

    response = client.get(LIST, query)

    assert response.status_code == 200
    assert shown(response) == expected
    totals = response.context["totals"]
    assert totals["sessions"] == len(expected)
    assert totals["seconds"] == sum(SECONDS[s] for s in expected)
    assert totals["bytes_in"] == sum(BYTES_IN[s] for s in expected)
    assert totals["bytes_out"] == 10 * sum(BYTES_IN[s] for s in expected)
    if not expected:
        assert "No session matches these filters." in response.content.decode()


def test_totals_read_as_time_and_data(client, customer, collector):
    DeviceFactory(user=customer, mac=PHONE)
    sessions_record(
        collector,
        [
            {"mac": PHONE, "started_at": local(days, 9), "ended_at": local(days, 10, 40), "bytes_in": 1_500_000_000,
             "bytes_out": 2_500_000}
            for days in (1, 2)
        ],
    )  # fmt: skip
    body = client.get(LIST).content.decode()
    assert 'data-total="sessions">2<' in body
    assert 'data-total="duration">3 h 20 min<' in body
    assert 'data-total="bytes_in">2.8\xa0GB<' in body
    assert 'data-total="bytes_out">4.8\xa0MB<' in body
    assert '<td class="num" data-label="Duration">1 h 40 min</td>' in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"device": "someone else's"}, "Choose one of your devices."),
        ({"device": "abc"}, "Choose one of your devices."),
        ({"date_from": "2026-13-45"}, "Enter a real date"),
        ({"date_from": _day(1), "date_to": _day(3)}, "The end date is before the start date."),
        ({"date_to": "9999-12-31"}, "Choose a date between"),
        ({"date_from": "1970-01-01"}, "Choose a date between"),
        ({"ip": "999.1.1.1"}, "Enter an IPv4 address"),
    ],
)
@pytest.mark.parametrize("url", [LIST, CSV])
def test_bad_filters_are_a_400_with_the_message_beside_the_field(client, two_devices, url, query, message):
    if query.get("device") == "someone else's":
        query = {"device": DeviceFactory(user=VerifiedUserFactory(), mac=STRANGER).pk}

    response = client.get(url, query)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Some filters are not valid" in body
    assert message in body
    assert 'class="field field-invalid"' in body and 'aria-invalid="true"' in body
    assert "<table" not in body


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not a cursor"},
        {"after": base64.urlsafe_b64encode(b"2026-03-01T10:00:00|12").decode()},  # no offset
        {"before": base64.urlsafe_b64encode(b"2026-03-01T10:00:00+00:00|x").decode()},
        {"after": base64.urlsafe_b64encode(b"2026-03-01T10:00:00+00:00|0").decode()},
        {"after": "MjAyNi0wMy0wMVQxMDowMDowMCswMDowMHwx", "before": "MjAyNi0wMy0wMVQxMDowMDowMCswMDowMHwx"},
    ],
)
def test_a_page_link_that_was_not_made_here_is_a_400(client, two_devices, query):
    response = client.get(LIST, {"device": two_devices["phone"], **query})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This page link is not valid" in body
    assert f'href="{LIST}?device={two_devices["phone"]}"' in body  # back to the newest, filters kept


def _walk(client, url: str) -> tuple[list[list[str]], object]:
    """Follow "Older" from `url` to the end; the pages' session ids and the last response."""
    pages = []
    response = client.get(url)
    while True:
        assert response.status_code == 200
        pages.append(shown(response))
        older = link(response, "next")
        if older is None:
            return pages, response
        response = client.get(older)


@pytest.fixture
def many(customer, collector):
    """120 phone sessions over two days, in threes that start at the same second (so a
    page ends between two sessions that started together), and 30 laptop sessions
    among them."""
    phone = DeviceFactory(user=customer, mac=PHONE, label="Phone")
    DeviceFactory(user=customer, mac=LAPTOP, label="Laptop")
    start = timezone.now().replace(microsecond=0) - timedelta(days=6)
    rows = [
        {
            "mac": PHONE,
            "started_at": start + timedelta(hours=n // 3),
            "ended_at": start + timedelta(hours=n // 3, minutes=30),
        }
        for n in range(120)
    ]
    rows += [{"mac": LAPTOP, "started_at": start + timedelta(hours=n, minutes=10)} for n in range(30)]
    sessions_record(collector, rows)
    return phone


def test_older_walks_every_session_once_newest_first_and_newer_comes_back(client, many):
    newest_first = list(
        NetworkSession.objects.filter(mac=PHONE).order_by("-started_at", "-id").values_list("session_id", flat=True)
    )
    assert len(newest_first) == 120

    pages, last = _walk(client, f"{LIST}?device={many.pk}")

    assert [len(page) for page in pages] == [50, 50, 20]
    assert sum(pages, []) == newest_first
    assert link(client.get(f"{LIST}?device={many.pk}"), "prev") is None
    newer = link(last, "prev")
    assert f"device={many.pk}" in newer
    middle = client.get(newer)
    assert shown(middle) == pages[1]
    first = client.get(link(middle, "prev"))
    assert shown(first) == pages[0]
    assert link(first, "prev") is None
    assert link(first, "next") is not None


def test_sessions_recorded_under_each_of_the_customers_emails_page_together(client, customer, collector):
    """A customer whose email changed has sessions under two subscribers: pages merge
    them, newest first, each once, both ways."""
    DeviceFactory(user=customer, mac=PHONE)
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    rows = [{"mac": PHONE, "started_at": start + timedelta(minutes=20 * (n // 2))} for n in range(130)]
    sessions_record(collector, rows[0::2])
    customer.email = "new-address@example.net"
    customer.save()
    sessions_record(collector, rows[1::2])
    assert NetworkSession.objects.values("subscriber").distinct().count() == 2
    newest_first = list(NetworkSession.objects.order_by("-started_at", "-id").values_list("session_id", flat=True))

    pages, last = _walk(client, LIST)

    assert [len(page) for page in pages] == [50, 50, 30]
    assert sum(pages, []) == newest_first
    middle = client.get(link(last, "prev"))
    assert shown(middle) == pages[1]


def test_a_deep_page_costs_the_same_queries_as_the_first_without_offset_or_count(client, customer, collector, many):
    client.get(LIST)  # the first request after signing in also settles the sign-in session
    customer_changed(customer.pk)  # each page below is built, not read from the page cache
    with CaptureQueriesContext(connection) as first:
        response = client.get(LIST)
    deep_url = link(client.get(link(response, "next")), "next")
    customer_changed(customer.pk)
    with CaptureQueriesContext(connection) as deep:
        assert len(shown(client.get(deep_url))) == 50

    few = VerifiedUserFactory()
    DeviceFactory(user=few, mac=STRANGER)
    sessions_record(collector, [{"mac": STRANGER}])
    client.force_login(few)
    client.get(LIST)
    customer_changed(few.pk)
    with CaptureQueriesContext(connection) as small:
        assert len(shown(client.get(LIST))) == 1

    assert len(first) == len(deep) == len(small)
    for captured in (first, deep, small):
        sql = [q["sql"] for q in captured if "accesslogs_networksession" in q["sql"]]
        assert len(sql) == 1, sql
        assert "LIMIT 51" in sql[0] and "OFFSET" not in sql[0] and "COUNT(" not in sql[0]


def test_each_row_shows_the_day_it_will_be_erased(client, customer, collector):
    DeviceFactory(user=customer, mac=PHONE)
    started = local(40, 12)
    if (started.month, started.day) == (2, 29):
        started = local(41, 12)
    sessions_record(collector, [{"mac": PHONE, "started_at": started}])
    erased = started.date().replace(year=started.year + 1)

    body = client.get(LIST).content.decode()

    assert "Erased on" in body
    assert f'<time datetime="{erased:%Y-%m-%d}">{date_format(erased, "SHORT_DATE_FORMAT")}</time>' in body


def test_a_customer_without_sessions_is_told_when_they_appear(client, customer):
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "No sessions yet." in body
    assert "Only sessions from the moment you add a device are linked to you" in body
    assert reverse("devices:list") in body
    assert "<table" not in body


def test_the_csv_holds_every_filtered_row_and_neutralises_formulas(client, customer, collector):
    phone = DeviceFactory(user=customer, mac=PHONE, label="@phone")
    DeviceFactory(user=customer, mac=LAPTOP, label="Laptop")
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    rows = [
        {"mac": PHONE, "started_at": start + timedelta(minutes=n), "ended_at": start + timedelta(minutes=n, seconds=30),
         "site": "=cmd|' /C calc'!A0", "site_address": "-1+2", "ip": "2001:db8::7"}
        for n in range(60)
    ]  # fmt: skip
    rows += [{"mac": LAPTOP, "site": "Laptop place"} for _ in range(5)]
    sessions_record(collector, rows)

    response = client.get(CSV, {"device": phone.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sessions-{timezone.localdate():%Y-%m-%d}.csv"'
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == [
        "started_at", "ended_at", "duration_seconds", "device", "mac", "ip", "site", "site_address", "bytes_in",
        "bytes_out", "erased_on",
    ]  # fmt: skip
    assert len(lines) == 61  # every row, not one page
    newest = start + timedelta(minutes=59)
    assert lines[1] == [
        timezone.localtime(newest).isoformat(),
        timezone.localtime(newest + timedelta(seconds=30)).isoformat(),
        "30",
        "'@phone",
        PHONE,
        "2001:db8::7",
        "'=cmd|' /C calc'!A0",
        "'-1+2",
        "1000000",
        "200000",
        erase_on(newest).isoformat(),
    ]
    assert {line[4] for line in lines[1:]} == {PHONE}
    assert [line[0] for line in lines[1:]] == sorted((line[0] for line in lines[1:]), reverse=True)


def test_the_page_links_to_the_csv_with_the_filters(client, two_devices):
    body = client.get(LIST, {"device": two_devices["laptop"], "ip": "192.0.2.10"}).content.decode()
    assert f'href="{CSV}?device={two_devices["laptop"]}&amp;ip=192.0.2.10"' in body


@pytest.mark.django_db
def test_labels_and_site_names_are_escaped_in_the_rows(client, customer, collector):
    DeviceFactory(user=customer, mac="00:1A:2B:00:00:31", label='<b onmouseover="x()">Bob</b>')
    sessions_record(
        collector, [{"mac": "00:1A:2B:00:00:31", "site": "<script>alert(1)</script>", "site_address": "a&b"}]
    )
    client.force_login(customer)
    page = client.get(reverse("logs:list")).text
    assert "<script>alert(1)</script>" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;Bob&lt;/b&gt;" in page
    assert "a&amp;b" in page
