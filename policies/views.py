from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .markdown import markdown_to_html
from .selectors import statement_in_force


def statement(request: HttpRequest) -> HttpResponse:
    version = statement_in_force()
    body = mark_safe(markdown_to_html(version.body)) if version else ""  # noqa: S308 - sanitised by nh3
    return render(request, "policies/statement.html", {"version": version, "body": body})
