"""What the database settings need when the portal reaches PostgreSQL through a pooler.

DATABASE_POOLER=pgbouncer says DATABASE_URL is PgBouncer in transaction mode: each
transaction may run on another server connection, so nothing may outlive one.

- `DISABLE_SERVER_SIDE_CURSORS`: Django's `.iterator()` outside a transaction
  declares a cursor WITH HOLD and fetches from it in later statements, which may reach
  another server connection. The code that streams large sets reads them in keyset
  pages instead (`cloudportal.sql.keyset_pages`), which needs no cursor.
- `prepare_threshold = None`: psycopg prepares a statement run often on the server
  session; PgBouncer before 1.21 does not follow prepared statements between server
  connections.

Locks and settings are transaction-scoped in the code itself (`pg_advisory_xact_lock`,
`SET LOCAL`), pooler or not.
"""

from __future__ import annotations

POOLERS = ("", "pgbouncer")


def database_pooled(database: dict, *, pooler: str) -> dict:
    """`database` (a DATABASES entry) set up for `pooler` ("" for none); returned."""
    if pooler not in POOLERS:
        raise ValueError(f"DATABASE_POOLER must be one of {POOLERS}, not {pooler!r}")
    if pooler == "pgbouncer":
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return database
