"""COPY output read in blocks, from one connection or two at once.

A bulk category (the access logs) goes into the archive twice, as CSV for people and
as JSON records for machines. The database writes both: one COPY of the rows as CSV,
one of each row as a JSON array (`json_build_array`). On two connections sharing one
snapshot (`pg_export_snapshot`), the two statements run side by side, each on its
own server process, while this process only moves bytes and compresses them; the
worker imports no data library and holds no more than a block per stream.

Read with libpq's calls directly: the server sends a message per row, and psycopg's
`Copy` costs about a microsecond more per message than this loop, about as much as
compressing the row.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable, Iterator

from django.db import DatabaseError, connection

#: Bytes of COPY output handed on at a time (whole rows).
COPY_BLOCK = 512 * 1024

Sink = Callable[[bytes], None]


class CopyReader:
    """Runs `queries` (COPY ... TO STDOUT, one after another) on `pgconn` and hands
    their output to `sink` in blocks of about COPY_BLOCK bytes, each ending at a
    row's end. Driven by `pump()` whenever the connection's socket is readable, so
    several readers can share one thread."""

    def __init__(self, pgconn, queries: list[bytes], sink: Sink) -> None:
        self.pgconn = pgconn
        self._queries = list(reversed(queries))
        self._sink = sink
        self._buffer = bytearray()
        self._state = "idle"  # idle → start (sent, awaiting COPY_OUT) → copy → end → idle…
        self.done = not queries

    def fileno(self) -> int:
        return self.pgconn.socket

    def start(self) -> None:
        """Sends the next query."""
        self.pgconn.send_query(self._queries.pop())
        while self.pgconn.flush():
            select.select([], [self.pgconn.socket], [])
        self._state = "start"

    def pump(self) -> None:
        """Takes whatever the server has sent; sets `done` after the last query."""
        from psycopg import pq

        pgconn = self.pgconn
        pgconn.consume_input()
        while not self.done:
            if self._state in ("start", "end"):
                if pgconn.is_busy():
                    return
                result = pgconn.get_result()
                if self._state == "start":
                    if result is None or result.status != pq.ExecStatus.COPY_OUT:
                        self.abandon()
                        raise DatabaseError(_error_text(result))
                    self._state = "copy"
                elif result is None:  # the statement is over
                    self._next()
                elif result.status != pq.ExecStatus.COMMAND_OK:
                    self.abandon()
                    raise DatabaseError(_error_text(result))
            else:
                size, data = pgconn.get_copy_data(1)
                if size > 0:
                    self._buffer += data
                    if len(self._buffer) >= COPY_BLOCK:
                        self._flush()
                elif size == 0:
                    return
                else:
                    self._state = "end"

    def _next(self) -> None:
        if self._queries:
            self.start()
        else:
            self._flush()
            self._state = "idle"
            self.done = True

    def _flush(self) -> None:
        if self._buffer:
            block = bytes(self._buffer)
            self._buffer.clear()
            self._sink(block)

    def abandon(self) -> None:
        """Stops the statement under way, if any, and reads what is left of it, so
        that the connection is usable again (its transaction has failed)."""
        from psycopg import pq

        if self._state == "idle":
            return
        self._state = "idle"
        self.done = True
        if self.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            self.pgconn.get_cancel().cancel()
        while (result := self.pgconn.get_result()) is not None:
            if result.status == pq.ExecStatus.COPY_OUT:
                while self.pgconn.get_copy_data(0)[0] >= 0:
                    pass


def copy_together(readers: list[CopyReader]) -> None:
    """Runs the readers to their end, side by side in this thread. If one fails (or
    its sink raises), the others' statements are stopped too."""
    active = [reader for reader in readers if not reader.done]
    try:
        for reader in active:
            reader.start()
        while active:
            ready, _, _ = select.select(active, [], [])
            for reader in ready:
                reader.pump()
            active = [reader for reader in active if not reader.done]
    finally:
        for reader in active:
            reader.abandon()


def copy_query(statement: str, params: tuple) -> bytes:
    """`statement` with its %s placeholders filled, as libpq sends it."""
    from psycopg import ClientCursor

    connection.ensure_connection()
    with ClientCursor(connection.connection) as client:
        return client.mogrify(statement, params).encode()


def snapshot_export(db=connection) -> str:
    """The current transaction's snapshot on `db` (a Django connection), for
    `snapshot_connection`. The transaction must be REPEATABLE READ, so that its own
    statements keep it."""
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def snapshot_connection(snapshot: str, db=connection) -> Iterator:
    """A second connection to `db`'s database (libpq level) in a read-only
    transaction that sees exactly what the transaction which exported `snapshot`
    sees, in the same time zone. Closed on leaving, whatever ran on it."""
    import psycopg
    from psycopg import sql

    # As Django connects, without its pool (if any): a connection of this export's own.
    second = psycopg.connect(**db.get_connection_params(), autocommit=True)
    try:
        time_zone = db.connection.info.parameter_status("TimeZone")
        second.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        second.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        second.execute("SELECT set_config('TimeZone', %s, true), set_config('jit', 'off', true)", (time_zone,))
        yield second.pgconn
    finally:
        second.close()


def _error_text(result) -> str:
    if result is None:
        return "COPY returned no result"
    return (result.error_message or b"COPY failed").decode(errors="replace")
