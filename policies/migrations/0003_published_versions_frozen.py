"""Published statement versions never change, whatever writes to the database: a
trigger refuses any UPDATE or DELETE of a row whose published_at is set. Publishing
itself (setting published_at on a draft) is an update of an unpublished row."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION policies_statementversion_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'statement version % is published and cannot be changed', OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER policies_statementversion_frozen
    BEFORE UPDATE OR DELETE ON policies_statementversion
    FOR EACH ROW EXECUTE FUNCTION policies_statementversion_frozen();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS policies_statementversion_frozen ON policies_statementversion;
DROP FUNCTION IF EXISTS policies_statementversion_frozen();
"""
SQLITE_UP = [
    """CREATE TRIGGER policies_statementversion_frozen_update BEFORE UPDATE ON policies_statementversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'statement version is published and cannot be changed'); END""",
    """CREATE TRIGGER policies_statementversion_frozen_delete BEFORE DELETE ON policies_statementversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'statement version is published and cannot be changed'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS policies_statementversion_frozen_update",
    "DROP TRIGGER IF EXISTS policies_statementversion_frozen_delete",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_acceptances_processors_announcements")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
