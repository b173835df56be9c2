import pytest
from django.template.defaultfilters import filesizeformat
from django.utils import translation

from accesslogs.templatetags.access_logs import duration, size_formatter


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sizes_read_exactly_as_djangos_filesizeformat(language):
    values = [0, 1, 1023, 1024, 1536, 10**6, 3_987_654, 10**9, 5 * 2**40 + 7, 2**50 * 3, 2**63 - 1]
    with translation.override(language):
        size = size_formatter()
        assert [size(v) for v in values] == [filesizeformat(v) for v in values]


def test_durations_are_short_and_never_roll_into_days():
    assert [duration(s) for s in (0, 59, 60, 3599, 3600, 3660, 30 * 3600 + 120)] == [
        "0 s",
        "59 s",
        "1 min",
        "59 min",
        "1 h",
        "1 h 1 min",
        "30 h 2 min",
    ]
