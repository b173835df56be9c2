"""An authority request's audit trail is append-only, whatever writes to the database:
a trigger refuses any UPDATE or DELETE of its rows (TRUNCATE, which only a test
flush or an operator runs, is not a row operation)."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION authorities_requestevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail of an authority request is append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER authorities_requestevent_append_only
    BEFORE UPDATE OR DELETE ON authorities_requestevent
    FOR EACH ROW EXECUTE FUNCTION authorities_requestevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS authorities_requestevent_append_only ON authorities_requestevent;
DROP FUNCTION IF EXISTS authorities_requestevent_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER authorities_requestevent_no_update BEFORE UPDATE ON authorities_requestevent
       BEGIN SELECT RAISE(ABORT, 'the audit trail of an authority request is append-only'); END""",
    """CREATE TRIGGER authorities_requestevent_no_delete BEFORE DELETE ON authorities_requestevent
       BEGIN SELECT RAISE(ABORT, 'the audit trail of an authority request is append-only'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS authorities_requestevent_no_update",
    "DROP TRIGGER IF EXISTS authorities_requestevent_no_delete",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("authorities", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
