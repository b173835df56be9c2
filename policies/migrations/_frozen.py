"""The database trigger that keeps published statement versions frozen (migration
0003), shared with the migrations that must put it back (0005: SQLite drops a table's
triggers when Django rebuilds the table to add a column). Not a migration itself: the
leading underscore keeps Django's loader away."""

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
    """CREATE TRIGGER IF NOT EXISTS policies_statementversion_frozen_update BEFORE UPDATE ON policies_statementversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'statement version is published and cannot be changed'); END""",
    """CREATE TRIGGER IF NOT EXISTS policies_statementversion_frozen_delete BEFORE DELETE ON policies_statementversion
       WHEN OLD.published_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'statement version is published and cannot be changed'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS policies_statementversion_frozen_update",
    "DROP TRIGGER IF EXISTS policies_statementversion_frozen_delete",
]


def run_for_vendor(statements_by_vendor):
    """A RunPython function executing the statements written for the database in use."""

    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)

    return run
