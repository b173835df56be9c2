"""Privacy officers publish statements, keep the processors list and write
announcements (accounts.groups); the groups get the new permissions."""

from django.db import migrations


def sync_groups(apps, schema_editor):
    from accounts.groups import groups_sync

    groups_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0003_published_versions_frozen"),
        ("accounts", "0003_staff_groups"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
