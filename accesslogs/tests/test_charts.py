"""Usage charts on the dashboard and /devices/: SVG drawn on the server from the daily
usage rollup, with a table of the same numbers, the customer's own only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accesslogs.charts import usage_charts_for
from accesslogs.models import DailyUsage
from accesslogs.templatetags.access_logs import duration_formatter, size_formatter
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.fragments import customer_changed
from cloudportal.months import month_start
from devices.tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

PAGES = (reverse("home"), reverse("devices:list"))


def usage(user, mac: str, days_ago: int, *, seconds: int, bytes_in: int, bytes_out: int = 0) -> DailyUsage:
    day = timezone.localdate() - timedelta(days=days_ago)
    return DailyUsage.objects.create(
        user=user, mac=mac, day=day, sessions=1, seconds=seconds, bytes_in=bytes_in, bytes_out=bytes_out
    )


def chart_html(content: str, key: str) -> str:
    match = re.search(rf'<figure class="chart" id="chart-{key}".*?</figure>', content, re.S)
    assert match, f"no chart {key}"
    return match.group(0)


def row(chart: str, label: str) -> list[str]:
    """The cells of the text alternative's row for `label`."""
    match = re.search(rf'<tr><th scope="row">{re.escape(label)}</th>(.*?)</tr>', chart, re.S)
    assert match, f"no row {label}"
    return re.findall(r'<td class="num">(.*?)</td>', match.group(1))


@pytest.fixture
def customer(client):
    user = VerifiedUserFactory()
    client.force_login(user)
    return user


def test_both_pages_draw_svg_charts_with_a_table_of_the_daily_usage_numbers(client, customer):
    laptop = DeviceFactory(user=customer, label="Laptop")
    phone = DeviceFactory(user=customer, label="Phone")
    usage(customer, laptop.mac, 0, seconds=3600, bytes_in=3 * 2**20, bytes_out=2**20)
    usage(customer, phone.mac, 0, seconds=600, bytes_in=2**20)
    usage(customer, phone.mac, 40, seconds=7200, bytes_in=5 * 2**30)
    today, size, duration = timezone.localdate(), size_formatter(), duration_formatter()
    for url in PAGES:
        content = client.get(url).content.decode()
        daily = chart_html(content, "daily-data")
        assert '<svg class="chart-svg"' in daily and 'role="img"' in daily
        assert "<title" in daily and "<desc" in daily and "<details" in daily and "<table" in daily
        # Each series' bars in one path: the laptop's and the phone's.
        assert daily.count('<path class="chart-series-') == 2
        # Per device, then the total: 4 MB for the laptop, 1 MB for the phone.
        assert row(daily, date_format(today, "DATE_FORMAT")) == [size(4 * 2**20), size(2**20), size(5 * 2**20)]
        assert row(chart_html(content, "daily-time"), date_format(today, "DATE_FORMAT")) == [
            duration(3600),
            duration(600),
            duration(4200),
        ]
        # 40 days ago is out of the 30 days and in the 12 months.
        forty = today - timedelta(days=40)
        assert date_format(forty, "DATE_FORMAT") not in daily
        monthly = chart_html(content, "monthly-data")
        # The phone only that month (the laptop's column says 0), then the total.
        assert row(monthly, date_format(month_start(forty), "YEAR_MONTH_FORMAT")) == [
            size(0),
            size(5 * 2**30),
            size(5 * 2**30),
        ]
        # No style attribute anywhere in the charts: the CSP forbids inline styles.
        assert "style=" not in chart_html(content, "monthly-time")


def test_another_customers_usage_is_absent(client, customer):
    mine = DeviceFactory(user=customer, label="Mine")
    other = VerifiedUserFactory()
    theirs = DeviceFactory(user=other, label="Theirs")
    usage(customer, mine.mac, 1, seconds=60, bytes_in=1000)
    usage(other, theirs.mac, 1, seconds=99999, bytes_in=987654321)
    # Usage under the customer's account for a MAC now another customer's device.
    usage(customer, theirs.mac, 2, seconds=50000, bytes_in=555555555)
    charts = usage_charts_for(user=customer)
    names = {name for chart in charts.daily + charts.monthly for _css, name in chart.series}
    assert names == {"Mine"}
    for url in PAGES:
        content = client.get(url).content.decode()
        assert "Theirs" not in content
        assert size_formatter()(987654321) not in content and size_formatter()(555555555) not in content
        assert duration_formatter()(99999) not in content


def test_the_charts_say_so_when_there_is_no_usage(client, customer):
    DeviceFactory(user=customer)
    for url in PAGES:
        content = client.get(url).content.decode()
        assert "No usage from your devices in the last 12 months." in content
        assert '<svg class="chart-svg"' not in content


def test_the_charts_read_the_rollup_in_one_query_whatever_the_number_of_devices(customer, django_assert_num_queries):
    def add_devices(count: int) -> None:
        for _n in range(count):
            device = DeviceFactory(user=customer)
            for days_ago in (0, 3, 45, 200):
                usage(customer, device.mac, days_ago, seconds=100, bytes_in=1000)

    add_devices(1)
    with django_assert_num_queries(1):
        few = usage_charts_for(user=customer)
    add_devices(9)
    with django_assert_num_queries(1):
        many = usage_charts_for(user=customer)
    assert len(few.daily[0].series) == 1
    # Six series at most: five devices and "Other devices".
    assert len(many.daily[0].series) == 6 and many.daily[0].series[-1][1] == "Other devices"
    assert many.monthly[0].total == size_formatter()(10 * 4 * 1000)


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_queries_do_not_grow_with_devices(client, customer, url):
    def add_devices(count: int) -> None:
        for _n in range(count):
            device = DeviceFactory(user=customer)
            for days_ago in (1, 100):
                usage(customer, device.mac, days_ago, seconds=100, bytes_in=1000)

    def queries() -> int:
        customer_changed(customer.pk)  # the dashboard's cached part is built again
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    add_devices(1)
    queries()  # warms what is cached (the statement state)
    with_one = queries()
    add_devices(8)
    assert queries() == with_one


def test_the_charts_follow_the_language(client, customer):
    customer.language = "fr"
    customer.save(update_fields=["language"])
    device = DeviceFactory(user=customer, label="Portable")
    usage(customer, device.mac, 0, seconds=5400, bytes_in=1536 * 2**20)
    content = client.get(reverse("devices:list")).content.decode()
    with translation.override("fr"):
        daily = chart_html(content, "daily-data")
        assert "Données utilisées par jour, 30 derniers jours" in daily
        today = date_format(timezone.localdate(), "DATE_FORMAT")
        assert today.endswith(date_format(timezone.localdate(), "Y")) and today in daily
        assert row(daily, today)[-1] == "1,5\xa0Gio"
        assert '<th scope="col">Période</th>' in daily and "Les chiffres" in daily


def test_the_axis_goes_up_to_a_round_value_above_the_highest_bar(customer):
    device = DeviceFactory(user=customer)
    usage(customer, device.mac, 0, seconds=39 * 3600 + 50 * 60, bytes_in=1100 * 2**20)
    charts = usage_charts_for(user=customer)
    data, time = charts.daily
    assert [tick.text for tick in data.y_ticks] == [
        size_formatter()(0),
        size_formatter()(2**30),
        size_formatter()(2**31),
    ]
    assert [tick.text for tick in time.y_ticks] == [duration_formatter()(s) for s in (0, 20 * 3600, 40 * 3600)]
    # The highest bar reaches 1100/2048 of the plot's height.
    (bar,) = [bar for bar in data.bars]
    assert float(bar.height) == pytest.approx((200 - 12 - 28) * 1100 / 2048, abs=0.01)
    # Drawn as a path that goes round the same rectangle.
    assert data.shapes == [(bar.css, f"M{bar.x} {bar.y}h{bar.width}v{bar.height}h-{bar.width}z")]
