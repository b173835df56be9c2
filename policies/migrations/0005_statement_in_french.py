"""The statement and the announcements in French too; the language an acceptance was
given in.

Rows that exist already (published versions, sent announcements, acceptances) get
empty French texts and an empty language: they were written and accepted in English,
and are shown in English, with a note, to a customer who reads the portal in French.
Publishing a new version (and sending an announcement) requires both languages.

Published versions stay frozen. On PostgreSQL, ADD COLUMN ... DEFAULT is no UPDATE of
the rows, so the trigger of migration 0003 neither fires nor goes. On SQLite, Django
adds a NOT NULL column by rebuilding the table (copy into a new table, drop the old
one, rename), and dropping a table drops its triggers: they are created again here.
"""

from django.db import migrations, models

from ._frozen import SQLITE_UP, run_for_vendor


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_staff_group_permissions"),
    ]

    operations = [
        # Undoing this migration rebuilds the table again: this runs last then.
        migrations.RunPython(migrations.RunPython.noop, run_for_vendor({"sqlite": SQLITE_UP})),
        migrations.AddField(
            model_name="announcement",
            name="body_fr",
            field=models.TextField(blank=True, default="", verbose_name="message in French (Markdown)"),
        ),
        migrations.AddField(
            model_name="announcement",
            name="subject_fr",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="subject in French"),
        ),
        migrations.AddField(
            model_name="statementacceptance",
            name="language",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Empty for acceptances recorded before the statement was written in French (they were in English).",
                max_length=8,
                verbose_name="language of the text accepted",
            ),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="body_fr",
            field=models.TextField(blank=True, default="", verbose_name="statement in French (Markdown)"),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="changelog_fr",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Sent to the customers who read the portal in French.",
                verbose_name="what changed in French",
            ),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="title_fr",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="title in French"),
        ),
        # After every AddField: each one rebuilt the SQLite table.
        migrations.RunPython(run_for_vendor({"sqlite": SQLITE_UP}), migrations.RunPython.noop),
    ]
