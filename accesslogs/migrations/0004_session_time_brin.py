from django.db import migrations

BRIN_SQL = (
    "CREATE INDEX IF NOT EXISTS accesslogs_session_time_brin ON accesslogs_networksession "
    "USING brin (started_at, ended_at) WITH (autosummarize = on)"
)


def brin_create(apps, schema_editor):
    """PostgreSQL only: a BRIN index (a few pages per partition) lets the retention
    sweep find the sessions a legal hold keeps by their time range without reading
    the whole month. Sessions arrive roughly in time order, which BRIN needs."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BRIN_SQL)


def brin_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS accesslogs_session_time_brin")


class Migration(migrations.Migration):
    dependencies = [("accesslogs", "0003_ingest_batch")]

    operations = [migrations.RunPython(brin_create, brin_drop)]
