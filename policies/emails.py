"""Context of the statement notice, loaded when the notices are delivered: the rows
hold only the version's id (see cloudportal.outbox.queue.emails_queue_bulk)."""

from .markdown import markdown_to_html
from .models import StatementVersion


def statement_notice_context(*, version_id: int) -> dict:
    version = StatementVersion.objects.get(pk=version_id, published_at__isnull=False)
    return {"version": version, "changelog_html": markdown_to_html(version.changelog)}
