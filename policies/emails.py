"""Context of the statement notice, loaded when the notices are delivered: the rows
hold only the version's id (see cloudportal.outbox.queue.emails_queue_bulk). The
templates take the texts in the recipient's language (the `in_language` filter)."""

from .models import StatementVersion
from .selectors import statement_previous


def statement_notice_context(*, version_id: int) -> dict:
    version = StatementVersion.objects.get(pk=version_id, published_at__isnull=False)
    return {"version": version, "previous": statement_previous(version=version)}
