"""/privacy/: the statement in force, rendered once per process for what it shows.

The statement part of the page (the version in force, the upcoming one's notice)
depends only on the statement's state, which every process reads from the cache
(selectors.statement_state: changed by publishing, and on the upcoming version's
effective date), and on the language. Published versions never change (the model
and a database trigger refuse it), so the version's id and number, the upcoming
version's number and date, the language and the time zone (the dates shown) are
its key: a new state is a new key, and the page never shows a replaced version.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from .selectors import StatementState, statement_published_by_id

#: Statement parts a process keeps at most (then it forgets them all).
PARTS_KEPT = 32

_parts: dict[tuple, SafeString] = {}


def statement_key(state: StatementState) -> tuple:
    """What the statement part shows, but for the language and the time zone."""
    return (state.in_force_id, state.in_force_version, state.upcoming_version, state.upcoming_effective_at)


def statement_html(*, state: StatementState) -> SafeString:
    """The statement part of /privacy/ for the state, in the current language."""
    language = translation.get_language()
    key = (*statement_key(state), language, timezone.get_current_timezone_name())
    html = _parts.get(key)
    if html is None:
        version = None if state.in_force_id is None else statement_published_by_id(version_id=state.in_force_id)
        upcoming = None
        if state.upcoming_version is not None:
            upcoming = {"version": state.upcoming_version, "effective_at": state.upcoming_effective_at}
        context = {
            "version": version,
            "upcoming": upcoming,
            "in_force": True,
            "LANGUAGE_CODE": language,
            "OPERATOR_NAME": settings.OPERATOR_NAME,
        }
        html = mark_safe(render_to_string("policies/_statement.html", context))  # noqa: S308 - an escaping template
        if len(_parts) >= PARTS_KEPT:
            _parts.clear()
        _parts[key] = html
    return html


def statement_parts_forget(**kwargs) -> None:
    """Render the parts again (a setting they show may have changed: tests do that)."""
    _parts.clear()


setting_changed.connect(statement_parts_forget)
