from collections.abc import Callable

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _

register = template.Library()


def duration_formatter() -> Callable[[int | None], str]:
    """A function writing lengths of time for people, "40 s", "25 min", "3 h 20 min"
    (hours never roll into days), with the patterns translated once."""
    patterns = (_("%(seconds)d s"), _("%(minutes)d min"), _("%(hours)d h"), _("%(hours)d h %(minutes)d min"))

    def format_duration(seconds: int | None) -> str:
        seconds = int(seconds or 0)
        if seconds < 60:
            return patterns[0] % {"seconds": seconds}
        minutes = seconds // 60
        if minutes < 60:
            return patterns[1] % {"minutes": minutes}
        hours, minutes = divmod(minutes, 60)
        if minutes == 0:
            return patterns[2] % {"hours": hours}
        return patterns[3] % {"hours": hours, "minutes": minutes}

    return format_duration


@register.filter
def duration(seconds: int | None) -> str:
    return duration_formatter()(seconds)


_UNITS = ((1 << 50, "%s PB"), (1 << 40, "%s TB"), (1 << 30, "%s GB"), (1 << 20, "%s MB"), (1 << 10, "%s KB"))


def size_formatter() -> Callable[[int], str]:
    """A function writing byte counts exactly as Django's filesizeformat does, with
    its translations and the decimal separator looked up once rather than per value."""
    units = [(size, _(pattern).replace(" ", "\xa0")) for size, pattern in _UNITS]
    separator = get_format("DECIMAL_SEPARATOR")

    def format_size(count: int) -> str:
        for size, pattern in units:
            if count >= size:
                return pattern % f"{round(count / size, 1):.1f}".replace(".", separator)
        return filesizeformat(count)

    return format_size
