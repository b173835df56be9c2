"""The grace period in words, for the deletion pages: whole hours, minutes or seconds,
in the language shown; a fraction of an hour (a demonstration) reads right too."""

from datetime import timedelta

import pytest
from django.utils import translation

from erasure.grace import erasure_grace, grace_text


@pytest.mark.parametrize(
    ("grace", "english", "french"),
    [
        (timedelta(hours=24), "24 hours", "24 heures"),
        (timedelta(hours=1), "1 hour", "1 heure"),
        (timedelta(minutes=90), "90 minutes", "90 minutes"),
        (timedelta(seconds=36), "36 seconds", "36 secondes"),
        (timedelta(seconds=2.2), "3 seconds", "3 secondes"),
        (timedelta(0), "", ""),
    ],
)
def test_the_grace_period_in_words(grace, english, french):
    with translation.override("en"):
        assert grace_text(grace) == english
    with translation.override("fr"):
        assert grace_text(grace) == french


def test_a_fraction_of_an_hour_is_a_grace_period_of_seconds(settings):
    settings.ERASURE_GRACE_HOURS = 0.01
    assert erasure_grace() == timedelta(seconds=36)
    settings.ERASURE_GRACE_HOURS = -1
    assert erasure_grace() == timedelta(0)
