from django.db import migrations


def sync_groups(apps, schema_editor):
    from accounts.groups import groups_sync

    groups_sync(apps)


class Migration(migrations.Migration):
    """Support views exports and deletion requests; Privacy officers also the ledger."""

    dependencies = [
        ("erasure", "0001_initial"),
        ("exports", "0001_initial"),
        ("accounts", "0004_email_unique_message"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
