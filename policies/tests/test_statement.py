import pytest
from django.urls import reverse
from django.utils import timezone

from policies.markdown import markdown_to_html
from policies.models import StatementVersion

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_and_made_safe():
    html = markdown_to_html(
        "## Title\n\nSome *text* and [a link](https://example.net).\n\n"
        "<script>alert(1)</script>\n\n[bad](javascript:alert(1))"
    )
    assert "<h2>Title</h2>" in html and "<em>text</em>" in html
    assert 'href="https://example.net"' in html
    assert "<script" not in html and 'href="javascript' not in html


def test_the_statement_in_force_is_shown_and_drafts_are_not(client):
    now = timezone.now()
    StatementVersion.objects.create(
        version="1.0", title="Statement one", body="Old words", effective_at=now, published_at=now
    )
    StatementVersion.objects.create(
        version="2.0", title="Draft two", body="Draft words", effective_at=now, published_at=None
    )
    StatementVersion.objects.create(
        version="3.0",
        title="Future three",
        body="Future words",
        effective_at=now + timezone.timedelta(days=30),
        published_at=now,
    )
    body = client.get(reverse("privacy")).content.decode()
    assert "Statement one" in body and "Old words" in body
    assert "Draft" not in body and "Future" not in body


def test_without_a_statement_the_page_says_so(client):
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    assert "has not published a privacy statement" in response.content.decode()
