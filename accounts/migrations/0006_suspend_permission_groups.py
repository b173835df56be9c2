from django.db import migrations


def sync_groups(apps, schema_editor):
    from accounts.groups import groups_sync

    groups_sync(apps)


class Migration(migrations.Migration):
    """Support (and so Privacy officers) may suspend and reinstate customers."""

    dependencies = [
        ("accounts", "0005_user_suspended"),
        ("erasure", "0002_staff_groups"),
        ("compliance", "0002_privacy_officer_permissions"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
