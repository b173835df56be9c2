from django.db import migrations


def create_groups(apps, schema_editor):
    from accounts.groups import groups_sync

    groups_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_profile_activity_requests"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("policies", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
