from django.db import migrations


def groups_update(apps, schema_editor):
    from accounts.groups import groups_sync

    groups_sync(apps)


class Migration(migrations.Migration):
    """Privacy officers (only) get the legal hold, disclosure and sweep permissions."""

    dependencies = [
        ("compliance", "0001_initial"),
        ("accounts", "0003_staff_groups"),
    ]

    operations = [migrations.RunPython(groups_update, migrations.RunPython.noop)]
