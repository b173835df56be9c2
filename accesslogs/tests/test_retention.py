"""The day a session is erased, as customers are told it: 12 months after it started,
as a local day."""

from datetime import UTC, date, datetime

import pytest

from accesslogs.retention import erase_on, retention_cutoff


@pytest.mark.parametrize(
    ("started_at", "erased_on"),
    [
        (datetime(2026, 3, 15, 10, 0, tzinfo=UTC), date(2027, 3, 15)),
        # 23:30 UTC on 30 November is already 1 December in Paris.
        (datetime(2025, 11, 30, 23, 30, tzinfo=UTC), date(2026, 12, 1)),
        # A year later there is no 29 February: the last day of the month.
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), date(2025, 2, 28)),
    ],
)
def test_a_session_is_erased_on_the_local_day_it_turns_twelve_months_old(settings, started_at, erased_on):
    settings.TIME_ZONE = "Europe/Paris"
    assert erase_on(started_at) == erased_on


def test_the_retention_follows_the_setting(settings):
    settings.TIME_ZONE = "Europe/Paris"
    settings.ACCESS_LOG_RETENTION_MONTHS = 6
    assert erase_on(datetime(2026, 3, 15, 10, 0, tzinfo=UTC)) == date(2026, 9, 15)
    assert retention_cutoff(datetime(2026, 9, 15, 10, 0, tzinfo=UTC)) == datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
