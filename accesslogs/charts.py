"""Pictures of a customer's usage: data used and time online per device, per day over
the last 30 days and per month over the last 12 months, from the daily usage rollup.

`usage_charts_for` reads the rollup in one query, whatever the number of devices, and
lays out stacked bar charts that `templates/accesslogs/usage_charts.html` draws as
inline SVG, each with a table giving the same numbers. The SVG uses only presentation
attributes and the stylesheet's classes (`chart-series-N`): no `style` attribute, so
the strict CSP (`style-src 'self'`) holds. Days are local days (settings.TIME_ZONE),
as in the rollup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _

from accounts.models import User
from cloudportal.months import month_add, month_start

from .selectors import device_usage_for
from .templatetags.access_logs import duration_formatter, size_formatter

DAYS = 30
MONTHS = 12
#: Devices drawn one by one; the others share one series.
SERIES_MAX = 6

#: The SVG's coordinate system (it scales to the width of its container).
WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 12, 28


@dataclass(frozen=True)
class Bar:
    """One device's part of one bucket's bar."""

    css: str
    x: str
    y: str
    width: str
    height: str


@dataclass(frozen=True)
class Tick:
    """A label on an axis, at (x, y) in the SVG's coordinates, and the height of its
    grid line (y axis only)."""

    text: str
    x: str
    y: str
    line: str = ""


@dataclass(frozen=True)
class Row:
    """One bucket (a day or a month) of the text alternative: its label, each series'
    value as shown, and the total."""

    label: str
    values: list[str]
    total: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    series: list[tuple[str, str]]  # (css class, device name)
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    rows: list[Row]
    total: str
    empty: bool
    width: str = str(WIDTH)
    height: str = str(HEIGHT)
    plot_left: str = str(LEFT)
    plot_right: str = str(WIDTH - RIGHT)
    plot_bottom: str = str(HEIGHT - BOTTOM)

    @property
    def shapes(self) -> list[tuple[str, str]]:
        """The bars as one SVG path per series, (css class, path data): a rectangle
        is `M x y h width v height h -width z`, under half the bytes of a `<rect>`,
        on pages that draw a few hundred of them."""
        paths: dict[str, list[str]] = {}
        for bar in self.bars:
            paths.setdefault(bar.css, []).append(f"M{bar.x} {bar.y}h{bar.width}v{bar.height}h-{bar.width}z")
        return [(css, "".join(parts)) for css, parts in paths.items()]


@dataclass(frozen=True)
class UsageCharts:
    """The four charts, or none when the customer has no usage in the last 12 months."""

    daily: list[Chart]
    monthly: list[Chart]

    @property
    def empty(self) -> bool:
        return all(chart.empty for chart in self.daily + self.monthly)


@dataclass
class _Usage:
    """Bytes (in + out) and seconds per device name and bucket."""

    data: dict[str, dict[date, int]]
    time: dict[str, dict[date, int]]


def usage_charts_for(*, user: User, today: date | None = None) -> UsageCharts:
    """The customer's usage charts, in the active language."""
    today = today or timezone.localdate()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    months = [month_add(month_start(today), -n) for n in range(MONTHS - 1, -1, -1)]
    rows = device_usage_for(user=user, first_month=months[0], first_day=days[0], last_day=today)
    daily, monthly = _Usage(defaultdict(dict), defaultdict(dict)), _Usage(defaultdict(dict), defaultdict(dict))
    devices: dict[str, tuple] = {}  # by MAC address: (added, name)
    for row in rows:
        mac = row["mac"]
        devices[mac] = (row["added"], row["label"] or mac)
        for usage, bucket in ((monthly, row["month"]), (daily, row["recent"])):
            if bucket is not None:
                usage.data[mac][bucket] = usage.data[mac].get(bucket, 0) + int(row["bytes"] or 0)
                usage.time[mac][bucket] = usage.time[mac].get(bucket, 0) + int(row["seconds"] or 0)
    # Oldest device first, as on /devices/.
    order = sorted(devices, key=lambda mac: (devices[mac][0], mac))
    names = {mac: devices[mac][1] for mac in order}
    size, duration = size_formatter(), duration_formatter()
    return UsageCharts(
        daily=[
            _chart("daily-data", _("Data used per day, last 30 days"), names, days, daily.data, size, _short_day,
                   _long_day, unit="bytes", every=7),
            _chart("daily-time", _("Time online per day, last 30 days"), names, days, daily.time, duration,
                   _short_day, _long_day, unit="seconds", every=7),
        ],
        monthly=[
            _chart("monthly-data", _("Data used per month, last 12 months"), names, months, monthly.data, size,
                   _short_month, _long_month, unit="bytes"),
            _chart("monthly-time", _("Time online per month, last 12 months"), names, months, monthly.time,
                   duration, _short_month, _long_month, unit="seconds"),
        ],
    )  # fmt: skip


def _short_day(day: date) -> str:
    return date_format(day, "MONTH_DAY_FORMAT")


def _long_day(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


def _short_month(month: date) -> str:
    # The month part of the day-and-month format: "Dec" in English, "déc." in French.
    return date_format(month, get_format("MONTH_DAY_FORMAT").replace("j", "").strip())


def _long_month(month: date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


#: The steps of a round axis top: 1, 2, 4 or 5, 10 times a power of ten.
_STEPS = (1, 2, 4, 5, 10)


def _rounded_up(value: int, unit: str) -> int:
    """The axis top: `value` rounded up to a number that reads round in its unit, so
    that it and its half are short labels ("2.0 GB" and "1.0 GB", "40 h" and "20 h")."""
    if value <= 0:
        return 0
    if unit == "bytes":
        scale = 1
        while value >= scale * 1024 and scale < 1 << 50:
            scale *= 1024
    elif value <= 60:
        return 60
    else:  # seconds: whole hours from an hour on, else whole minutes up to an hour
        scale = 3600 if value > 3600 else 60
    amount = value / scale
    power = 1
    while power * 10 < amount:
        power *= 10
    while power > amount and power > 1:
        power //= 10
    step = next(step for step in _STEPS if step * power >= amount)
    return min(int(step * power * scale), 3600) if scale == 60 else int(step * power * scale)


def _n(value: float) -> str:
    """A coordinate as SVG reads it: a dot before the decimals whatever the language."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _series(names: dict[str, str], values: dict[str, dict[date, int]]) -> list[tuple[str, dict[date, int]]]:
    """(name, values by bucket) of the devices with some usage, the first SERIES_MAX - 1
    on their own when there are more than SERIES_MAX, the rest summed as "Other
    devices"."""
    used = [mac for mac in names if any(values.get(mac, {}).values())]
    if len(used) <= SERIES_MAX:
        return [(names[mac], values[mac]) for mac in used]
    others: dict[date, int] = defaultdict(int)
    for mac in used[SERIES_MAX - 1 :]:
        for bucket, value in values[mac].items():
            others[bucket] += value
    return [(names[mac], values[mac]) for mac in used[: SERIES_MAX - 1]] + [(_("Other devices"), dict(others))]


def _chart(
    key: str,
    title: str,
    names: dict[str, str],
    buckets: list[date],
    values: dict[str, dict[date, int]],
    shown: Callable[[int], str],
    short: Callable[[date], str],
    long: Callable[[date], str],
    *,
    unit: str,
    every: int = 1,
) -> Chart:
    series = _series(names, values)
    totals = [sum(part.get(bucket, 0) for _name, part in series) for bucket in buckets]
    peak = max(totals, default=0)
    top = _rounded_up(peak, unit)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(buckets)
    bar_width = slot * 0.7
    bars = []
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot + (slot - bar_width) / 2
        base = HEIGHT - BOTTOM
        for number, (_name, part) in enumerate(series):
            value = part.get(bucket, 0)
            if not value or not peak:
                continue
            height = value / top * plot_height
            base -= height
            bars.append(Bar(f"chart-series-{number}", _n(x), _n(base), _n(bar_width), _n(height)))
    last = len(buckets) - 1
    x_ticks = [
        Tick(short(bucket), _n(LEFT + index * slot + slot / 2), _n(HEIGHT - BOTTOM + 18))
        for index, bucket in enumerate(buckets)
        if (last - index) % every == 0
    ]
    levels = ((0, HEIGHT - BOTTOM), (top // 2, TOP + plot_height / 2), (top, TOP)) if peak else ()
    y_ticks = [Tick(shown(value), _n(LEFT - 6), _n(y + 4), _n(y)) for value, y in levels]
    rows = [
        Row(long(bucket), [shown(part.get(bucket, 0)) for _name, part in series], shown(totals[index]))
        for index, bucket in enumerate(buckets)
    ]
    names_shown = ", ".join(name for name, _part in series)
    description = (
        _("Stacked bars, one per period, one colour per device (%(devices)s). Highest: %(peak)s; in all: %(total)s.")
        % {"devices": names_shown, "peak": shown(peak), "total": shown(sum(totals))}
        if peak
        else _("No usage in this period.")
    )
    return Chart(
        key=key,
        title=title,
        description=description,
        series=[(f"chart-series-{number}", name) for number, (name, _part) in enumerate(series)],
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        rows=rows,
        total=shown(sum(totals)),
        empty=not peak,
    )
