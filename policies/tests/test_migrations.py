"""Migration 0005 adds the French texts and keeps published versions frozen on the
embedded default too: on SQLite, Django adds a column by rebuilding the table, which
drops its triggers (PostgreSQL's trigger is checked at the head of the migrations by
test_versions.py)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def migrate(database: Path, *target: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", *target, "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def triggers(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_on_sqlite_versions_published_before_get_empty_french_texts_and_stay_frozen(tmp_path):
    database = tmp_path / "embedded.sqlite3"
    migrate(database, "policies", "0004")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO policies_statementversion (version, title, body, changelog, material, effective_at,"
            " published_at) VALUES ('1.0', 'Statement', 'Words', 'First', 1, '2026-01-01', '2026-01-01')"
        )
    migrate(database, "policies", "0005")

    frozen = {"policies_statementversion_frozen_update", "policies_statementversion_frozen_delete"}
    assert frozen <= triggers(database)
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT body, title_fr, body_fr, changelog_fr FROM policies_statementversion")
        assert row.fetchall() == [("Words", "", "", "")]
        for statement in (
            "UPDATE policies_statementversion SET body_fr = 'Mots'",
            "DELETE FROM policies_statementversion",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="published and cannot be changed"):
                connection.execute(statement)
    # Undone, the table is rebuilt once more: the triggers come back with it.
    migrate(database, "policies", "0004")
    assert frozen <= triggers(database)
