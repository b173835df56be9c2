"""Month arithmetic, shared by data requests, retention and the sessions' partitions."""

from datetime import UTC, date, datetime, timedelta, timezone

from cloudportal.months import add_months, month_add, month_start, months_between


def test_add_months_keeps_the_day_or_takes_the_last_one():
    moment = datetime(2026, 1, 31, 14, 5, tzinfo=UTC)
    assert add_months(moment, 1) == datetime(2026, 2, 28, 14, 5, tzinfo=UTC)
    assert add_months(moment, 3) == datetime(2026, 4, 30, 14, 5, tzinfo=UTC)
    assert add_months(moment.replace(month=12, day=15), 1) == datetime(2027, 1, 15, 14, 5, tzinfo=UTC)
    assert add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2029, 2, 28, tzinfo=UTC)


def test_add_months_counts_back_too():
    assert add_months(datetime(2026, 3, 31, tzinfo=UTC), -1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 15, tzinfo=UTC), -12) == datetime(2025, 1, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 15, tzinfo=UTC), -13) == datetime(2024, 12, 15, tzinfo=UTC)


def test_month_steps():
    assert month_start(datetime(2026, 5, 31, 23, 59, tzinfo=UTC)) == date(2026, 5, 1)
    assert month_add(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert month_add(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert month_add(date(2026, 1, 1), -25) == date(2023, 12, 1)


def test_months_between_counts_in_utc():
    # 00:30 on 1 March in Paris is still February in UTC: partitions follow UTC.
    paris = timezone(timedelta(hours=1))
    assert months_between(datetime(2026, 3, 1, 0, 30, tzinfo=paris), datetime(2026, 3, 2, tzinfo=UTC)) == [
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert months_between(datetime(2026, 12, 5, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == [
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert months_between(datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == []
