import re

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.safestring import SafeData, mark_safe

from cloudportal.http import passkeys_unavailable as _passkeys_unavailable
from cloudportal.outbox import absolute_url as _absolute_url
from cloudportal.privacy import counted_noun as _counted_noun

register = template.Library()


@register.simple_tag
def absolute_url(name: str, *args) -> str:
    """`{% absolute_url 'me:activity' %}`: a full link, for emails."""
    return _absolute_url(name, *args)


@register.simple_tag(takes_context=True)
def passkeys_unavailable(context) -> object:
    """`{% passkeys_unavailable as unavailable %}`: why passkeys cannot work at this
    page's address (`cloudportal.http.passkeys_unavailable`), or None."""
    request = context.get("request")
    return _passkeys_unavailable(request) if request is not None else None


@register.filter
def counted_noun(label, count) -> str:
    """`{{ label|counted_noun:count }}`: a registry noun agreeing with its count
    ("1 device", "2 devices"; cloudportal.privacy.noun)."""
    return _counted_noun(label, int(count or 0))


@register.simple_tag(takes_context=True)
def nav_current(context, url: str, *within: str) -> str:
    """` aria-current="page"` on the link to this very page, ` aria-current="true"` on
    the link to the section it belongs to (its path starts with one of `within`).
    `{% nav_current devices_url devices_url %}`: /devices/ and every page under it."""
    request = context.get("request")
    path = request.path if request is not None else ""
    if path == url:
        return mark_safe(' aria-current="page"')  # noqa: S308 - constant markup
    if any(path.startswith(prefix) for prefix in within):
        return mark_safe(' aria-current="true"')  # noqa: S308 - constant markup
    return ""


_WORD = re.compile(r"[^\W\d_][\w’']*(?:-[^\W\d_][\w’']*)*")


@register.filter(is_safe=True)
def sentence_case(value):
    """allauth's English Title Case ("Change Password") in the portal's sentence case
    ("Change password"). Only in English, only text outside tags; the first word,
    acronyms (IP), words with capitals inside (CloudPortal), "I" and the operator's
    name keep their capitals. Surrounding white space goes (templates indent their slots)."""
    if (translation.get_language() or "en").split("-")[0] != "en":
        return value
    keep = set(settings.OPERATOR_NAME.split()) | {"I"}
    first = True

    def word(match: re.Match) -> str:
        nonlocal first
        parts = match.group(0).split("-")
        for i, part in enumerate(parts):
            if first and i == 0 or part in keep or not (part[:1].isupper() and part[1:] == part[1:].lower()):
                continue
            parts[i] = part.lower()
        first = False
        return "-".join(parts)

    pieces = re.split(r"(<[^>]*>)", str(value).strip())
    text = "".join(piece if piece.startswith("<") else _WORD.sub(word, piece) for piece in pieces)
    return mark_safe(text) if isinstance(value, SafeData) else text  # noqa: S308 - only letters changed case
