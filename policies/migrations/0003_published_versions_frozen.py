"""Published statement versions never change, whatever writes to the database: a
trigger refuses any UPDATE or DELETE of a row whose published_at is set. Publishing
itself (setting published_at on a draft) is an update of an unpublished row. The SQL
is in _frozen.py, which migration 0005 uses to put the SQLite triggers back."""

from django.db import migrations

from ._frozen import POSTGRES_DOWN, POSTGRES_UP, SQLITE_DOWN, SQLITE_UP, run_for_vendor


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_acceptances_processors_announcements")]

    operations = [
        migrations.RunPython(
            run_for_vendor({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            run_for_vendor({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
