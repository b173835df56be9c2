from django import template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from policies.markdown import markdown_to_html

register = template.Library()


@register.filter
def statement_markdown(text: str) -> SafeString:
    """Statement Markdown as HTML, sanitised by nh3."""
    return mark_safe(markdown_to_html(text or ""))  # noqa: S308 - sanitised by nh3


@register.filter
def in_language(obj, field: str) -> str:
    """A statement version's or announcement's text in the language being rendered
    (the page's, or the email recipient's), English where no French was written:
    `{{ version|in_language:"body"|statement_markdown }}`."""
    return obj.in_language(field, translation.get_language())


@register.filter
def text_language(obj) -> str:
    """The language `in_language` shows the object's texts in ("en" or "fr"), for a
    `lang` attribute and the note on versions published in English only."""
    return obj.text_language(translation.get_language())
