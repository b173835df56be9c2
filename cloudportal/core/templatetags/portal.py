from django import template

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
