"""Measuring pages in-process, with Django's test client: the links and rows of a page's
HTML, the SQL statements of one request with their times, and their plans."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin


class _Links(HTMLParser):
    """The href of the link to older sessions: rel="next", or the text "Older"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.by_rel: str | None = None
        self.by_text: str | None = None
        self._open: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = (attrs.get("rel") or "").split()
        if tag in ("a", "link") and "next" in rel and attrs.get("href") and self.by_rel is None:
            self.by_rel = attrs["href"]
        if tag == "a" and attrs.get("href"):
            self._open, self._text = attrs, []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            if self.by_text is None and re.search(r"\bolder\b", "".join(self._text), re.IGNORECASE):
                self.by_text = self._open["href"]
            self._open = None


def older_link(html: str, base: str) -> str | None:
    links = _Links()
    links.feed(html)
    href = links.by_rel or links.by_text
    return urljoin(base, href) if href else None


def rows_on_page(html: str) -> int | None:
    """How many sessions the page lists (rows of the table body), if it has one."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    return body.group(1).count("<tr") if body else None


def queries_of(client, url: str) -> list[dict]:
    """The SQL of one request, each statement with its time measured around the database
    call (Django's own record rounds to the millisecond)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durations: list[float] = []

    def clock(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(clock):
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    queries, measured = [], iter(durations)
    for q in captured.captured_queries:
        # BEGIN and COMMIT do not go through execute wrappers: Django's figure for those.
        seconds = float(q["time"]) if q["sql"] in ("BEGIN", "COMMIT", "ROLLBACK") else next(measured)
        queries.append({"sql": q["sql"], "ms": round(seconds * 1000, 3)})
    return queries


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())
