"""One format family for dates, in the portal's time zone: "1 Dec 2026, 22:00" and
"1 déc. 2026, 22:00" on pages, in emails and in What we hold; the shown form read back
by the /logs/ filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from accesslogs.forms import SessionFilterForm
from accounts.models import ActivityEvent
from accounts.services import activity_record
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.dates import day_parse, day_shown, moment_shown
from cloudportal.outbox.render import email_render
from devices.models import Device
from devices.tests.factories import DeviceFactory

#: 21:00 UTC is 22:00 in Paris (settings.TIME_ZONE); 23:30 UTC is already the next day there.
EVENING = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
LATE = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)

SHOWN = {
    "en": ("1 Dec 2026", "1 Dec 2026, 22:00", "2 Dec 2026, 00:30"),
    "fr": ("1 déc. 2026", "1 déc. 2026, 22:00", "2 déc. 2026, 00:30"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_dates_and_times_are_day_month_year_and_24_hours_in_local_time(language):
    day, evening, late = SHOWN[language]
    with translation.override(language):
        assert day_shown(EVENING) == day and day_shown(date(2026, 12, 1)) == day
        assert moment_shown(EVENING) == evening and moment_shown(LATE) == late


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_devices_page_shows_the_format_in_the_customers_language(client, language):
    user = VerifiedUserFactory(language=language)
    client.force_login(user)
    device = DeviceFactory(user=user)
    Device.objects.filter(pk=device.pk).update(created_at=EVENING, last_seen_at=EVENING)
    content = client.get(reverse("devices:list")).content.decode()
    day, evening, _late = SHOWN[language]
    assert f">{day}</time>" in content and f">{evening}</time>" in content
    assert "12/01/2026" not in content and "p.m." not in content


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_what_we_hold_samples_are_in_local_time(client, language):
    user = VerifiedUserFactory(language=language)
    client.force_login(user)
    event = activity_record(
        user=user, action=ActivityEvent.Action.CHANGED, category="profile", actor_kind=ActivityEvent.Actor.CUSTOMER
    )
    ActivityEvent.objects.filter(pk=event.pk).update(created_at=LATE)
    content = client.get(reverse("me:data")).content.decode()
    assert SHOWN[language][2] in content
    assert "2026-12-01 23:30" not in content


@pytest.mark.parametrize("language", ["en", "fr"])
def test_emails_use_the_same_format(language):
    export = SimpleNamespace(expires_at=EVENING, sha256="0" * 64)
    email = email_render(template="emails/export_ready", context={"export": export, "url": "x"}, language=language)
    evening = SHOWN[language][1]
    assert evening in email.text and evening in email.html


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "2026-12-01"),
        ("en", "1 Dec 2026"),
        ("en", "1 December 2026"),
        ("fr", "2026-12-01"),
        ("fr", "1 déc. 2026"),
        ("fr", "1 décembre 2026"),
        ("fr", "01/12/2026"),
    ],
)
def test_the_logs_filters_read_iso_and_the_shown_day(language, text):
    with translation.override(language):
        form = SessionFilterForm({"date_from": text}, devices=[])
        assert form.is_valid(), form.errors
        assert form.cleaned_data["date_from"] == date(2026, 12, 1)


def test_the_us_month_first_order_is_not_read_as_a_date():
    with translation.override("en"):
        assert not SessionFilterForm({"date_from": "12/01/2026"}, devices=[]).is_valid()
    assert day_parse("31 Feb 2026") is None and day_parse("1 Foo 2026") is None
