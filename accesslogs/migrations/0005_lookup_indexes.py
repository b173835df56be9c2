import django.db.models.functions.text
from django.db import migrations, models

#: The indexes authority lookups use (authorities/lookups.py explains the choice).
LOOKUP_INDEXES = {
    "accesslogs_session_ip_time": ("ip", "ended_at", "started_at"),
    "accesslogs_session_mac_time": ("mac", "ended_at", "started_at"),
}
PARENT = "accesslogs_networksession"


def _partitions(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
        [PARENT],
    )
    return [row[0] for row in cursor.fetchall()]


def lookup_indexes_create(apps, schema_editor):
    """On PostgreSQL, without blocking ingest on a table in use: the index is declared
    on the parent only (ON ONLY, invalid until every partition has its own), each
    partition's is built CONCURRENTLY and attached, which makes the parent's valid.
    Partitions made later (partitions_ensure, the held sessions' DEFAULT partition)
    get it from the parent when they are created. Safe to run again after a failure:
    an index left invalid by an interrupted concurrent build is made again."""
    if schema_editor.connection.vendor != "postgresql":
        model = apps.get_model("accesslogs", "NetworkSession")
        for name, columns in LOOKUP_INDEXES.items():
            schema_editor.add_index(model, models.Index(fields=list(columns), name=name))
        return
    with schema_editor.connection.cursor() as cursor:
        for name, columns in LOOKUP_INDEXES.items():
            cols = ", ".join(columns)
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON ONLY {PARENT} ({cols})")
            suffix = name.removeprefix("accesslogs_session")
            for partition in _partitions(cursor):
                own = f"{partition}{suffix}"
                cursor.execute(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
                    [own],
                )
                found = cursor.fetchone()
                if found is not None and not found[0]:
                    cursor.execute(f"DROP INDEX CONCURRENTLY {own}")
                cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {own} ON {partition} ({cols})")
                cursor.execute(f"ALTER INDEX {name} ATTACH PARTITION {own}")


def lookup_indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        model = apps.get_model("accesslogs", "NetworkSession")
        for name, columns in LOOKUP_INDEXES.items():
            schema_editor.remove_index(model, models.Index(fields=list(columns), name=name))
        return
    for name in LOOKUP_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [("accesslogs", "0004_session_time_brin")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="networksession",
                    index=models.Index(fields=["ip", "ended_at", "started_at"], name="accesslogs_session_ip_time"),
                ),
                migrations.AddIndex(
                    model_name="networksession",
                    index=models.Index(fields=["mac", "ended_at", "started_at"], name="accesslogs_session_mac_time"),
                ),
            ],
            database_operations=[migrations.RunPython(lookup_indexes_create, lookup_indexes_drop)],
        ),
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(django.db.models.functions.text.Upper("email"), name="accesslogs_subscriber_email"),
        ),
    ]
