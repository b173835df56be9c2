from django import template
from django.utils.safestring import SafeString, mark_safe

from policies.markdown import markdown_to_html

register = template.Library()


@register.filter
def statement_markdown(text: str) -> SafeString:
    """Statement Markdown as HTML, sanitised by nh3."""
    return mark_safe(markdown_to_html(text or ""))  # noqa: S308 - sanitised by nh3
