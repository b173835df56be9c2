"""The grace period between asking to delete the account and its erasure, and how the
pages say it. ERASURE_GRACE_HOURS may be a fraction, to watch a deletion happen in a
demonstration or a test (0.01: 36 seconds)."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.utils.translation import ngettext


def erasure_grace() -> timedelta:
    """ERASURE_GRACE_HOURS as a duration; nothing (erased at once) when 0."""
    return timedelta(hours=max(settings.ERASURE_GRACE_HOURS, 0))


def grace_text(grace: timedelta) -> str:
    """The duration in words, in the active language: whole hours ("24 hours"), else
    whole minutes ("90 minutes"), else seconds, rounded up ("36 seconds"); "" for none."""
    seconds = math.ceil(grace.total_seconds())
    if seconds <= 0:
        return ""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
