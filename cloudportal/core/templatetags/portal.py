from django import template

from cloudportal.outbox import absolute_url as _absolute_url

register = template.Library()


@register.simple_tag
def absolute_url(name: str, *args) -> str:
    """`{% absolute_url 'me:activity' %}`: a full link, for emails."""
    return _absolute_url(name, *args)
